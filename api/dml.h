/* dml.h: embed images with a model trained by `dml train` and search an
 * exact nearest-neighbour index of embeddings. C99; the whole public API of
 * libdml.
 *
 * Conventions
 * - Every function that can fail returns a dml_status. DML_OK is 0; on any
 *   other status nothing was written to the caller's outputs, and
 *   dml_last_error() gives a one-line message (what, where, how to fix) for
 *   the calling thread's most recent failed call.
 * - Every argument is checked: a null pointer, a zero size where one is
 *   needed, an output buffer too small, a file that is not what it should
 *   be. No function aborts, throws, prints or exits.
 * - Objects are opaque; each *_open / *_create / *_load has its *_close,
 *   which accepts NULL.
 * - Embeddings are float32 rows of dml_model_embedding_dim() values, one row
 *   per image, in the order given. Images given as files or 8-bit pixels go
 *   through the model's evaluation preprocessing (resize of the shorter
 *   side, centre crop, per-channel normalisation, as stored in the model
 *   file); float batches are taken as already preprocessed.
 *
 * Threads
 * - A dml_model may be used by any number of threads at once: its weights
 *   are read-only, and each call runs on memory planned for its batch shape,
 *   taken from a pool inside the model (so N concurrent callers hold at most
 *   N such workspaces per shape) and kept for the next call of that shape.
 *   Each call computes with up to dml_model_options.num_threads OpenMP
 *   threads of its own.
 * - A dml_index may be searched by any number of threads at once; an add
 *   waits for running searches and holds new ones back while it appends.
 * - dml_last_error() is per thread.
 */
#ifndef DML_H
#define DML_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define DML_API
#elif defined(__GNUC__)
#define DML_API __attribute__((visibility("default")))
#else
#define DML_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The version this header describes. dml_version() gives the library's;
 * a program can compare DML_API_VERSION with dml_api_version() at start. */
#define DML_VERSION_MAJOR 0
#define DML_VERSION_MINOR 1
#define DML_VERSION_PATCH 0
/* Raised whenever a function or a struct field is added (never removed). */
#define DML_API_VERSION 1

typedef enum dml_status {
  DML_OK = 0,
  DML_ERROR_INVALID_ARGUMENT = 1, /* a null pointer, a bad size or value */
  DML_ERROR_IO = 2,               /* a file missing, unreadable or unwritable */
  DML_ERROR_FORMAT = 3,           /* a file that is not a valid model, index or image */
  DML_ERROR_SHAPE = 4,            /* sizes that do not fit the model or the index */
  DML_ERROR_OUT_OF_MEMORY = 5,
  DML_ERROR_INTERNAL = 6 /* a bug: please report it with the message */
} dml_status;

/* "0.1.0", and the commit the library was built from when known. */
DML_API const char* dml_version(void);
DML_API int dml_api_version(void);
/* A short constant name of a status ("DML_ERROR_FORMAT"). */
DML_API const char* dml_status_name(dml_status status);
/* The calling thread's last error message; "" when none. Valid until this
 * thread's next call into the library. */
DML_API const char* dml_last_error(void);

/* ---- models -------------------------------------------------------------- */

typedef struct dml_model dml_model;

typedef struct dml_model_options {
  /* sizeof(dml_model_options): set by dml_model_options_init, so a newer
   * library reads only the fields an older program knows. */
  size_t struct_size;
  /* Threads per call; 0 = OpenMP's default (the cores the process may use). */
  int32_t num_threads;
  /* Images whose width x height exceeds this are refused before decoding;
   * 0 = 50,000,000. */
  int64_t max_image_pixels;
} dml_model_options;

DML_API void dml_model_options_init(dml_model_options* options);

/* Opens a model file written by `dml train` (model.safetensors, or the
 * model part of a checkpoint). The file describes itself: backbone, input
 * channels and size, normalisation, embedding dimension. options may be
 * NULL (the defaults). */
DML_API dml_status dml_model_open(const char* path, const dml_model_options* options,
                                  dml_model** model);
DML_API void dml_model_close(dml_model* model);

typedef struct dml_model_info {
  size_t struct_size;    /* set by the caller: sizeof(dml_model_info) */
  int64_t embedding_dim; /* floats per embedding */
  int64_t channels;      /* 1 (grey) or 3 (RGB) */
  int64_t image_size;    /* the network's input: image_size x image_size */
  int64_t resize;        /* the shorter side is resized to this before the centre crop */
  float mean[3], std[3]; /* per-channel normalisation, (x / 255 - mean) / std */
  char backbone[32];     /* "resnet50", ... */
} dml_model_info;

DML_API dml_status dml_model_get_info(const dml_model* model, dml_model_info* info);
DML_API dml_status dml_model_embedding_dim(const dml_model* model, int64_t* dim);

/* Embeds `count` image files (JPEG, PNG, BMP, GIF, TGA, PNM, ...).
 * embeddings holds capacity floats, at least count * embedding_dim. A file
 * that cannot be read or decoded fails the whole call, naming it. */
DML_API dml_status dml_embed_files(const dml_model* model, const char* const* paths, size_t count,
                                   float* embeddings, size_t capacity);

/* An 8-bit image in memory: height rows of width pixels, interleaved
 * channels (3: R, G, B; 1: grey), rows row_stride bytes apart
 * (>= width * channels). */
typedef struct dml_image {
  const uint8_t* pixels;
  int64_t width, height;
  int64_t channels;
  int64_t row_stride;
} dml_image;

/* Embeds `count` 8-bit images of any size (each is resized and cropped
 * like a file). RGB images feed a grey model through the same luma weights
 * as decoded files; grey images feed an RGB model as three equal channels. */
DML_API dml_status dml_embed_images(const dml_model* model, const dml_image* images, size_t count,
                                    float* embeddings, size_t capacity);

/* Embeds a float32 batch already preprocessed: NCHW, contiguous,
 * [count, channels, height, width] with channels, height and width equal
 * to the model's (dml_model_info). */
DML_API dml_status dml_embed_tensor(const dml_model* model, const float* batch, size_t count,
                                    int64_t channels, int64_t height, int64_t width,
                                    float* embeddings, size_t capacity);

/* ---- exact nearest-neighbour index ----------------------------------------
 * Rows of dim floats with int64 ids (>= 0, chosen by the caller; duplicates
 * allowed). Search is exact (a brute-force scan by blocked matrix products
 * and a streaming top-k): squared Euclidean distances for DML_METRIC_L2,
 * 1 - cosine similarity for DML_METRIC_COSINE, ascending, ties to the row
 * added first. Beyond the rows held, result slots get id -1 and distance
 * +infinity. */

typedef struct dml_index dml_index;

typedef enum dml_metric {
  DML_METRIC_L2 = 0,
  DML_METRIC_COSINE = 1,
  /* Not a metric: widens the type to every int32 value, so that whatever a
   * caller passes is a valid dml_metric the library can check and refuse. */
  DML_METRIC_MAX_ENUM = 0x7FFFFFFF
} dml_metric;

DML_API dml_status dml_index_create(int64_t dim, dml_metric metric, dml_index** index);
DML_API void dml_index_close(dml_index* index);

/* Appends count rows and their ids; all or nothing (a non-finite value or a
 * negative id adds none). */
DML_API dml_status dml_index_add(dml_index* index, const float* vectors, const int64_t* ids,
                                 size_t count);

/* The k nearest rows of each of count queries: ids and distances are
 * count * k each, row-major. */
DML_API dml_status dml_index_search(const dml_index* index, const float* queries, size_t count,
                                    size_t k, int64_t* ids, float* distances);

DML_API dml_status dml_index_size(const dml_index* index, int64_t* size);
DML_API dml_status dml_index_dim(const dml_index* index, int64_t* dim);
DML_API dml_status dml_index_metric(const dml_index* index, dml_metric* metric);

/* A safetensors file, written to a temporary name and renamed, so an
 * existing file is replaced whole or not at all. */
DML_API dml_status dml_index_save(const dml_index* index, const char* path);
/* Every field of the file is checked before anything is allocated for it. */
DML_API dml_status dml_index_load(const char* path, dml_index** index);

#ifdef __cplusplus
}
#endif

#endif /* DML_H */
