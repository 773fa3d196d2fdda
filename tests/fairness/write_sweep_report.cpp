// Writes the sweep report of the synthetic summary (tests/fairness/
// report_fixtures.h) to the path given, for the browser check
// (check_report_in_browser.py, ctest SweepReport.RendersInBrowser).
#include <cstdio>
#include <exception>
#include <fstream>

#include "fairness/report/sweep_report.h"
#include "tests/fairness/report_fixtures.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT.html\n", argv[0]);
    return 2;
  }
  try {
    const std::string html = dml::fairness::render_sweep_html(dml::test::synthetic_sweep());
    std::ofstream out(argv[1], std::ios::binary);
    out << html;
    out.close();
    if (!out) {
      std::fprintf(stderr, "write_sweep_report: cannot write %s\n", argv[1]);
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "write_sweep_report: %s\n", e.what());
    return 1;
  }
  return 0;
}
