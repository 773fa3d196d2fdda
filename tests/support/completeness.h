#pragma once
// Completeness checks: every public op, loss and miner has a test case, and
// every loss and miner a line in the README. Each check is a function of
// plain lists and text, so a test can show it fails on a doctored list.
#include <map>
#include <string>
#include <vector>

namespace dml::test {

// Why a name needs no case of its own, by name.
using Exemptions = std::map<std::string, std::string>;

// The names of `required` no case covers, in their order, exemptions
// aside. A case covers the name it is called by, bare or with a variant
// suffix ("sum_all" covers "sum"), so a case name is a fixture's key.
std::vector<std::string> uncovered(const std::vector<std::string>& required,
                                   const std::vector<std::string>& cases,
                                   const Exemptions& exempt = {});

// Exemptions naming nothing in `required` (a renamed or removed op): a
// stale one would hide the next op of that name.
std::vector<std::string> stale_exemptions(const Exemptions& exempt,
                                          const std::vector<std::string>& required);

// The functions a header declares at the start of a line returning Tensor, a
// pair of them or a KnnResult ("add", "conv2d", "knn"), in order, each once;
// operators aside.
std::vector<std::string> declared_ops(const std::string& header);

// The `code` spans of `markdown` from the first `begin` to the next `end`
// (or the end of the text); none when `begin` is not there.
std::vector<std::string> code_spans_between(const std::string& markdown, const std::string& begin,
                                            const std::string& end);

}  // namespace dml::test
