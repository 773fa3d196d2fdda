#pragma once
// A dataset described by a CSV manifest: any collection of images with labels
// and sensitive attributes, without a reader of its own. The first row names
// the columns:
//   path   the image file; a relative path is resolved against the directory
//          of the manifest (required)
//   label  the class (required)
//   split  the part a row belongs to, any name (optional)
//   any other column is an attribute, in header order.
// Label and attribute columns hold integers, or else strings: a column in
// which any value is not an integer is coded by its distinct values in sorted
// (byte) order, 0, 1, ..., counted over the whole file so every split gets
// the same codes. Values may not be empty. A string column's values name its
// codes (SampleSet::class_names, attribute_values), so reports show them;
// they must be UTF-8 without line breaks or other control characters, and two
// values that differ only in surrounding spaces are refused (they would read
// as one name). Column names must be
// UTF-8 too.
//
// Fields follow RFC 4180: separated by commas; a field in double quotes may
// hold commas, line breaks and doubled quotes (""); CRLF or LF line ends; a
// UTF-8 byte-order mark is skipped; blank lines are skipped. Not supported
// (each throws naming the line): a quote inside an unquoted field, text after
// a closing quote, rows with a different number of fields than the header.
// Spaces around fields are kept as part of the value.
//
// Refused at once, naming the line: UTF-16 text or NUL bytes; a column name
// that is empty, repeated or not UTF-8; a label, attribute or split value
// that is not UTF-8 (they name classes and subgroups in JSON documents);
// a column of integers holding a number spelled otherwise (" 1", "+1",
// "1.0", "1e3", one past 64 bits, "NaN"), which would make the column text
// and each spelling a value of its own. Paths may hold any bytes.
#include <cstdint>
#include <map>
#include <string>

#include "dml/data/sample.h"

namespace dml::data {

struct CsvManifestOptions {
  bool check_files = true;  // as ReaderOptions::check_files
  // Keep only the rows whose `split` column equals this; empty keeps every
  // row. Needs a split column.
  std::string split = {};
};

SampleSet read_csv_manifest(const std::string& path, const CsvManifestOptions& options = {});

// How many rows hold each value of the manifest's split column (empty without
// one), so a run can say which rows neither of its splits reads.
std::map<std::string, int64_t> csv_split_counts(const std::string& path);

}  // namespace dml::data
