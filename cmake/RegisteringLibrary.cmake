# dml_registering_library(<name> <sources>...): a static library whose
# objects register themselves at start-up (losses, miners, a training
# extension's config section; see dml/registry.h). No symbol of such an
# object is referenced, so a plain static link would drop it and the name
# would be unknown at run time. <name> is an INTERFACE target linking the
# archive <name>_archive whole; every consumer links <name>, never the archive,
# so the archive is always linked with the one feature (CMake refuses a link
# that mixes WHOLE_ARCHIVE and plain references to one library).
function(dml_registering_library name)
  add_library(${name}_archive STATIC ${ARGN})
  add_library(${name} INTERFACE)
  target_link_libraries(${name} INTERFACE "$<LINK_LIBRARY:WHOLE_ARCHIVE,${name}_archive>")
endfunction()
