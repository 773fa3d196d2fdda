// stb_image_write compiled once for the tests that write image files
// (image_files.h, the deployment fixture); the libraries link no stb.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
