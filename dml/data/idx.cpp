#include "dml/data/idx.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <iomanip>
#include <sstream>
#include <vector>

#include "base/regular_file.h"

namespace dml::data {

namespace {

std::string hex32(uint32_t v) {
  std::ostringstream os;
  os << "0x" << std::hex << std::setw(8) << std::setfill('0') << v;
  return os.str();
}

// A gzip-or-plain input file (gzread passes plain files through unchanged).
// Every error names the file, so a tool can print it as the whole message.
class GzReader {
 public:
  explicit GzReader(std::string path) : path_(std::move(path)) {
    const int fd =
        RegularFile(path_, "IDX file", " (check the path, or download the dataset there)")
            .release();
    file_ = gzdopen(fd, "rb");
    if (!file_) ::close(fd);
    DML_CHECK(file_, "cannot open IDX file ", path_, ": out of memory");
    // A larger buffer than zlib's 8 KiB default: these files are read whole.
    gzbuffer(file_, 1 << 17);
  }
  ~GzReader() { gzclose(file_); }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;

  // Reads up to n bytes; fewer only at the end of the data. A gzip or I/O
  // error throws.
  uint64_t read(void* dst, uint64_t n) {
    // gzread takes an unsigned and returns an int: read in bounded chunks.
    constexpr uint64_t kChunk = uint64_t(1) << 24;
    uint64_t done = 0;
    auto* out = static_cast<unsigned char*>(dst);
    while (done < n) {
      unsigned want = unsigned(std::min(kChunk, n - done));
      int got = gzread(file_, out + done, want);
      if (got < 0) throw_gzip_error();
      done += uint64_t(got);
      if (unsigned(got) < want) break;
    }
    // A short read can also mean a damaged stream (zlib's "unexpected end of
    // file"): report that rather than a bare length mismatch.
    if (done < n) check_stream();
    return done;
  }

  const std::string& path() const { return path_; }

 private:
  void check_stream() {
    int code = Z_OK;
    gzerror(file_, &code);
    if (code != Z_OK && code != Z_STREAM_END) throw_gzip_error();
  }

  [[noreturn]] void throw_gzip_error() {
    int code = Z_OK;
    std::string msg = gzerror(file_, &code);
    // zlib prefixes its message with the path; we add our own.
    std::string prefix = path_ + ": ";
    if (msg.rfind(prefix, 0) == 0) msg.erase(0, prefix.size());
    throw Error(detail::concat("IDX file ", path_, ": read failed (",
                               code == Z_ERRNO ? "I/O error" : "corrupt gzip stream", ": ", msg,
                               "); re-download the file"));
  }

  std::string path_;
  gzFile file_ = nullptr;
};

uint32_t read_be32(GzReader& in, const char* what) {
  unsigned char b[4];
  uint64_t got = in.read(b, 4);
  DML_CHECK(got == 4, "IDX file ", in.path(), ": truncated in the header (", what,
            "); the file is not a complete IDX file");
  return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | uint32_t(b[3]);
}

}  // namespace

IdxArray read_idx(const std::string& path) {
  GzReader in(path);
  uint32_t magic = read_be32(in, "magic number");
  DML_CHECK(magic == kIdxLabelsMagic || magic == kIdxImagesMagic, "IDX file ", path,
            ": bad magic number ", hex32(magic), " (expected ", hex32(kIdxLabelsMagic),
            " for u8 labels or ", hex32(kIdxImagesMagic),
            " for u8 images); the file is not an unsigned-byte IDX file");
  const int64_t ndim = int64_t(magic & 0xff);

  Shape shape;
  uint64_t total = 1;
  for (int64_t d = 0; d < ndim; ++d) {
    uint32_t size = read_be32(in, "dimension sizes");
    DML_CHECK(size > 0, "IDX file ", path, ": dimension ", d, " has size 0");
    total *= size;  // at most 2^31 after the check below, so 3 factors cannot overflow
    DML_CHECK(total <= kIdxMaxBytes, "IDX file ", path, ": header promises more than ",
              kIdxMaxBytes, " bytes of data; the header is corrupt");
    shape.push_back(int64_t(size));
  }

  // A header is only a promise: a few corrupt bytes (or a small gzip file)
  // may claim 2 GiB. The data is read in chunks, so memory follows the bytes
  // that are really there, and is copied into the tensor once complete.
  constexpr uint64_t kChunk = uint64_t(16) << 20;
  std::vector<unsigned char> bytes;
  uint64_t got = 0;
  while (got < total) {
    const uint64_t want = std::min(kChunk, total - got);
    bytes.resize(size_t(got + want));
    const uint64_t n = in.read(bytes.data() + got, want);
    got += n;
    if (n < want) break;
  }
  DML_CHECK(got == total, "IDX file ", path, ": truncated: the header (shape ", shape_str(shape),
            ") promises ", total, " data bytes but the file holds only ", got);
  Tensor values = Tensor::empty(shape, DType::u8);
  std::memcpy(values.raw_data(), bytes.data(), size_t(total));
  unsigned char extra;
  DML_CHECK(in.read(&extra, 1) == 0, "IDX file ", path,
            ": holds more bytes than its header (shape ", shape_str(shape), ") promises");
  return {path, values};
}

IdxArray read_idx_images(const std::string& path) {
  IdxArray a = read_idx(path);
  DML_CHECK(a.values.dim() == 3, "IDX file ", path, ": expected images [n, rows, cols], got ",
            shape_str(a.values.shape()), " (is this a label file?)");
  return a;
}

IdxArray read_idx_labels(const std::string& path) {
  IdxArray a = read_idx(path);
  DML_CHECK(a.values.dim() == 1, "IDX file ", path, ": expected labels [n], got ",
            shape_str(a.values.shape()), " (is this an image file?)");
  return a;
}

}  // namespace dml::data
