"""Embed images with a model trained by `dml train` and search an exact index
of embeddings, from Python: a thin layer over libdml (api/dml.h) with ctypes
and numpy, nothing to build.

    import dml_deploy
    with dml_deploy.Model("model.safetensors") as model:
        gallery = model.embed_files(["a.jpg", "b.png"])    # float32 [2, dim]
    index = dml_deploy.Index(gallery.shape[1], metric="cosine")
    index.add(gallery, [10, 11])
    ids, distances = index.search(gallery[:1], k=2)      # [1, 2] each

The library is found at $DML_LIBRARY, else beside this module (../lib,
../../lib, or ../../../lib from share/dml/python/ of an installed prefix),
else by the system's search (ctypes.util.find_library("dml")).

Every failure raises DmlError(status, message): the library's status and its
one-line message, or, for arguments refused before the call (a wrong dtype or
shape), DML_ERROR_INVALID_ARGUMENT or DML_ERROR_SHAPE with a message of the
module's. Arrays are passed without a copy when their layout allows (float32
and int64 C-contiguous; images whose pixels are contiguous within each row, at
any row stride), else copied once.
"""
import ctypes
import ctypes.util
import os

import numpy as np

API_VERSION = 1  # DML_API_VERSION of the dml.h this module is written against

OK = 0
ERROR_INVALID_ARGUMENT = 1
ERROR_IO = 2
ERROR_FORMAT = 3
ERROR_SHAPE = 4
ERROR_OUT_OF_MEMORY = 5
ERROR_INTERNAL = 6
STATUS_NAMES = {
    OK: "DML_OK",
    ERROR_INVALID_ARGUMENT: "DML_ERROR_INVALID_ARGUMENT",
    ERROR_IO: "DML_ERROR_IO",
    ERROR_FORMAT: "DML_ERROR_FORMAT",
    ERROR_SHAPE: "DML_ERROR_SHAPE",
    ERROR_OUT_OF_MEMORY: "DML_ERROR_OUT_OF_MEMORY",
    ERROR_INTERNAL: "DML_ERROR_INTERNAL",
}
METRICS = {"l2": 0, "cosine": 1}


class DmlError(Exception):
    """A failed call: status (an int, one of the ERROR_* constants) and message."""

    def __init__(self, status, message):
        super().__init__(f"{STATUS_NAMES.get(status, status)}: {message}")
        self.status = status
        self.message = message


# ---- the library -----------------------------------------------------------

_LIBRARY_NAMES = ("libdml.so", "libdml.so.0", "libdml.dylib")


def _library_candidates():
    """Where the library may be, in the order looked at."""
    env = os.environ.get("DML_LIBRARY")
    if env:
        return [env]
    here = os.path.dirname(os.path.abspath(__file__))
    paths = [os.path.join(here, up, "lib", name)
             for up in (os.pardir, os.path.join(os.pardir, os.pardir),
                        os.path.join(os.pardir, os.pardir, os.pardir))
             for name in _LIBRARY_NAMES]
    found = ctypes.util.find_library("dml")
    return [p for p in paths if os.path.exists(p)] + ([found] if found else [])


class _ModelOptions(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("num_threads", ctypes.c_int32),
                ("max_image_pixels", ctypes.c_int64)]


class _ModelInfo(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("embedding_dim", ctypes.c_int64),
                ("channels", ctypes.c_int64), ("image_size", ctypes.c_int64),
                ("resize", ctypes.c_int64), ("mean", ctypes.c_float * 3),
                ("std", ctypes.c_float * 3), ("backbone", ctypes.c_char * 32)]


class _Image(ctypes.Structure):
    _fields_ = [("pixels", ctypes.c_void_p), ("width", ctypes.c_int64),
                ("height", ctypes.c_int64), ("channels", ctypes.c_int64),
                ("row_stride", ctypes.c_int64)]


_p = ctypes.c_void_p
_i64 = ctypes.c_int64
_size = ctypes.c_size_t
_status = ctypes.c_int
# name: (restype, argtypes), as declared in dml.h.
_SIGNATURES = {
    "dml_version": (ctypes.c_char_p, []),
    "dml_api_version": (ctypes.c_int, []),
    "dml_last_error": (ctypes.c_char_p, []),
    "dml_model_options_init": (None, [ctypes.POINTER(_ModelOptions)]),
    "dml_model_open": (_status, [ctypes.c_char_p, ctypes.POINTER(_ModelOptions),
                                 ctypes.POINTER(_p)]),
    "dml_model_close": (None, [_p]),
    "dml_model_get_info": (_status, [_p, ctypes.POINTER(_ModelInfo)]),
    "dml_embed_files": (_status, [_p, ctypes.POINTER(ctypes.c_char_p), _size, _p, _size]),
    "dml_embed_images": (_status, [_p, ctypes.POINTER(_Image), _size, _p, _size]),
    "dml_embed_tensor": (_status, [_p, _p, _size, _i64, _i64, _i64, _p, _size]),
    "dml_index_create": (_status, [_i64, ctypes.c_int, ctypes.POINTER(_p)]),
    "dml_index_close": (None, [_p]),
    "dml_index_add": (_status, [_p, _p, _p, _size]),
    "dml_index_search": (_status, [_p, _p, _size, _size, _p, _p]),
    "dml_index_size": (_status, [_p, ctypes.POINTER(_i64)]),
    "dml_index_dim": (_status, [_p, ctypes.POINTER(_i64)]),
    "dml_index_metric": (_status, [_p, ctypes.POINTER(ctypes.c_int)]),
    "dml_index_save": (_status, [_p, ctypes.c_char_p]),
    "dml_index_load": (_status, [ctypes.c_char_p, ctypes.POINTER(_p)]),
}

_lib = None


def library():
    """The loaded libdml (loaded and checked on first use)."""
    global _lib
    if _lib is not None:
        return _lib
    candidates = _library_candidates()
    if not candidates:
        raise DmlError(ERROR_IO, "libdml not found: set DML_LIBRARY to the path of libdml.so, "
                                 "or install the library beside this module (<prefix>/lib)")
    try:
        lib = ctypes.CDLL(candidates[0])
    except OSError as e:
        raise DmlError(ERROR_IO, f"cannot load libdml from {candidates[0]}: {e}") from None
    for name, (restype, argtypes) in _SIGNATURES.items():
        try:
            f = getattr(lib, name)
        except AttributeError:
            raise DmlError(ERROR_IO, f"{candidates[0]} lacks {name}; it is not libdml, or too "
                                     "old for this module") from None
        f.restype, f.argtypes = restype, argtypes
    if lib.dml_api_version() < API_VERSION:
        raise DmlError(ERROR_IO, f"{candidates[0]} has API version {lib.dml_api_version()}; "
                                 f"this module needs {API_VERSION} or newer")
    _lib = lib
    return lib


def version():
    """The library's version string ("0.1.0", and the commit when known)."""
    return library().dml_version().decode()


def _check(status):
    if status != OK:
        raise DmlError(status, library().dml_last_error().decode(errors="replace"))


def _refuse(status, message):
    raise DmlError(status, message)


def _path(path):
    return os.fsencode(os.fspath(path))


def _ptr(array):
    return array.ctypes.data_as(ctypes.c_void_p)


def _matrix(array, what, dtype, columns):
    """array as a C-contiguous [rows, columns] matrix of dtype (copied only if needed)."""
    if not isinstance(array, np.ndarray):  # a list of lists: converted, as numpy would
        array = np.asarray(array, dtype=dtype)
    if array.dtype != dtype:
        _refuse(ERROR_INVALID_ARGUMENT, f"{what} is {array.dtype}; pass {np.dtype(dtype).name} "
                                        f"(convert with .astype(np.{np.dtype(dtype).name}))")
    if array.ndim != 2 or array.shape[1] != columns:
        _refuse(ERROR_SHAPE, f"{what} has shape {array.shape}; expected [rows, {columns}]")
    return np.ascontiguousarray(array)


# ---- models ----------------------------------------------------------------

class _Handle:
    """An owner of one library object: closed by close(), by a with block's
    end, or when garbage collected. Subclasses name their kind and the
    library function that releases it."""

    _kind = "object"
    _release = None  # the name of the dml_*_close function

    def close(self):
        if self._handle is not None:
            getattr(library(), self._release)(self._handle)
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_handle", None) is not None:
            self.close()

    def _open_handle(self):
        if self._handle is None:
            _refuse(ERROR_INVALID_ARGUMENT, "the %s is closed" % self._kind)
        return self._handle


class Model(_Handle):
    """A model file written by `dml train`, ready to embed images."""

    _kind = "model"
    _release = "dml_model_close"

    def __init__(self, path, num_threads=0, max_image_pixels=0):
        lib = library()
        self._handle = None
        options = _ModelOptions()
        lib.dml_model_options_init(ctypes.byref(options))
        options.num_threads = num_threads
        options.max_image_pixels = max_image_pixels
        handle = ctypes.c_void_p()
        _check(lib.dml_model_open(_path(path), ctypes.byref(options), ctypes.byref(handle)))
        self._handle = handle
        info = _ModelInfo()
        info.struct_size = ctypes.sizeof(info)
        _check(lib.dml_model_get_info(self._handle, ctypes.byref(info)))
        self.embedding_dim = info.embedding_dim
        self.info = {"embedding_dim": info.embedding_dim, "channels": info.channels,
                     "image_size": info.image_size, "resize": info.resize,
                     "mean": list(info.mean), "std": list(info.std),
                     "backbone": info.backbone.decode()}

    def _embeddings(self, count):
        return np.empty((count, self.embedding_dim), dtype=np.float32)

    def embed_files(self, paths):
        """Embeddings [len(paths), embedding_dim] of image files (JPEG, PNG, ...)."""
        encoded = [_path(p) for p in paths]
        out = self._embeddings(len(encoded))
        if encoded:
            array = (ctypes.c_char_p * len(encoded))(*encoded)
            _check(library().dml_embed_files(self._open_handle(), array, len(encoded),
                                             _ptr(out), out.size))
        return out

    def embed_images(self, images):
        """Embeddings of 8-bit images: each a uint8 array [H, W] (grey) or
        [H, W, C], C = 1 or 3 (RGB). Any row stride is passed as is; an image
        whose pixels are not contiguous within a row is copied."""
        kept, described = [], []
        for i, image in enumerate(images):
            image = np.asarray(image)
            if image.dtype != np.uint8:
                _refuse(ERROR_INVALID_ARGUMENT, f"image {i} is {image.dtype}; pass uint8 pixels")
            if image.ndim == 2:
                image = image[:, :, None]
            if image.ndim != 3 or image.shape[2] not in (1, 3):
                _refuse(ERROR_SHAPE, f"image {i} has shape {image.shape}; expected [H, W], "
                                     "[H, W, 1] or [H, W, 3]")
            height, width, channels = image.shape
            # The library reads each row's pixels contiguously, rows row_stride apart.
            row_bytes = width * channels
            if height > 0 and not (image[0].flags.c_contiguous and
                                   (height == 1 or image.strides[0] >= row_bytes)):
                image = np.ascontiguousarray(image)
            kept.append(image)
            described.append(_Image(image.ctypes.data, width, height, channels,
                                    image.strides[0] if height > 1 else row_bytes))
        out = self._embeddings(len(kept))
        if kept:
            array = (_Image * len(described))(*described)
            _check(library().dml_embed_images(self._open_handle(), array, len(described),
                                              _ptr(out), out.size))
        return out

    def embed_tensor(self, batch):
        """Embeddings of a float32 NCHW batch already preprocessed (the model's
        channels and image_size)."""
        if not isinstance(batch, np.ndarray):
            batch = np.asarray(batch, dtype=np.float32)
        if batch.dtype != np.float32:
            _refuse(ERROR_INVALID_ARGUMENT, f"batch is {batch.dtype}; pass float32 "
                                            "(convert with .astype(np.float32))")
        if batch.ndim != 4:
            _refuse(ERROR_SHAPE, f"batch has shape {batch.shape}; expected NCHW "
                                 "[count, channels, height, width]")
        batch = np.ascontiguousarray(batch)
        count, channels, height, width = batch.shape
        out = self._embeddings(count)
        if count:
            _check(library().dml_embed_tensor(self._open_handle(), _ptr(batch), count, channels,
                                              height, width, _ptr(out), out.size))
        return out


# ---- exact index -----------------------------------------------------------

class Index(_Handle):
    """An exact nearest-neighbour index of float32 rows with int64 ids (>= 0).
    metric "l2" gives squared Euclidean distances, "cosine" 1 - cosine
    similarity; searches beyond the rows held give id -1, distance inf."""

    _kind = "index"
    _release = "dml_index_close"

    def __init__(self, dim, metric="l2", _handle=None):
        self._handle = None
        if _handle is None:
            if metric not in METRICS:
                _refuse(ERROR_INVALID_ARGUMENT,
                        f"metric {metric!r} is unknown; pass one of {sorted(METRICS)}")
            _handle = ctypes.c_void_p()
            _check(library().dml_index_create(dim, METRICS[metric], ctypes.byref(_handle)))
        self._handle = _handle

    @classmethod
    def load(cls, path):
        """An index written by save()."""
        handle = ctypes.c_void_p()
        _check(library().dml_index_load(_path(path), ctypes.byref(handle)))
        return cls(0, _handle=handle)

    def _int64_query(self, function):
        value = ctypes.c_int64()
        _check(function(self._open_handle(), ctypes.byref(value)))
        return value.value

    @property
    def dim(self):
        return self._int64_query(library().dml_index_dim)

    @property
    def metric(self):
        value = ctypes.c_int()
        _check(library().dml_index_metric(self._open_handle(), ctypes.byref(value)))
        return {v: k for k, v in METRICS.items()}[value.value]

    def __len__(self):
        return self._int64_query(library().dml_index_size)

    def add(self, vectors, ids):
        """Appends float32 rows [n, dim] with their ids (n integers >= 0); all
        or nothing."""
        vectors = _matrix(vectors, "vectors", np.float32, self.dim)
        ids = np.asarray(ids)
        if ids.size == 0:  # [] is float64 to numpy
            ids = ids.astype(np.int64)
        if ids.dtype.kind not in "iu":
            _refuse(ERROR_INVALID_ARGUMENT, f"ids are {ids.dtype}; pass integers")
        if ids.shape != (len(vectors),):
            _refuse(ERROR_SHAPE, f"ids have shape {ids.shape}; expected ({len(vectors)},), "
                                 "one per row of vectors")
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        _check(library().dml_index_add(self._open_handle(), _ptr(vectors), _ptr(ids),
                                       len(vectors)))

    def search(self, queries, k):
        """(ids int64 [n, k], distances float32 [n, k]) of the k nearest rows
        of each query row, nearest first."""
        if not isinstance(k, (int, np.integer)) or k < 1:
            _refuse(ERROR_INVALID_ARGUMENT, f"k is {k!r}; pass how many neighbours to find "
                                            "per query (an integer >= 1)")
        queries = _matrix(queries, "queries", np.float32, self.dim)
        ids = np.empty((len(queries), k), dtype=np.int64)
        distances = np.empty((len(queries), k), dtype=np.float32)
        _check(library().dml_index_search(self._open_handle(), _ptr(queries), len(queries), k,
                                          _ptr(ids), _ptr(distances)))
        return ids, distances

    def save(self, path):
        """Writes the index (safetensors) atomically: an existing file is
        replaced whole or not at all."""
        _check(library().dml_index_save(self._open_handle(), _path(path)))
