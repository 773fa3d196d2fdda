# dml_commit_header(<target> <comment>): <target> may include "dml_commit.h",
# the commit the build was made from ("unknown" outside a git checkout).
# cmake/WriteCommit.cmake rewrites the header at every build when the commit
# changed, so a rebuild after a commit names the new one.
function(dml_commit_header target comment)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/dml_commit.h)
  add_custom_target(${target}_commit
    COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${CMAKE_SOURCE_DIR} -DOUT=${out}
            -P ${CMAKE_SOURCE_DIR}/cmake/WriteCommit.cmake
    BYPRODUCTS ${out}
    COMMENT "${comment}")
  add_dependencies(${target} ${target}_commit)
  target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_BINARY_DIR})
endfunction()
