// The mpmath reference table of the Bessel tests (tests/data/bessel_reference.csv, written by
// tests/tools/gen_bessel_reference.py): one Row per line, values in long double.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace sm_test {

struct BesselRow {
    std::string region;
    bool f;  // the row is also a float32 reference point
    double v, x;
    long double log_i, log_k, ratio_i, ratio_k, log_ie, log_ke;
};

// Rows of the table at path (empty, with a message, when it cannot be read).
inline std::vector<BesselRow> load_bessel_table(const char* path) {
    std::vector<BesselRow> rows;
    std::ifstream in(path);
    if (!in) {
        std::printf("cannot open %s\n", path);
        return rows;
    }
    std::string line;
    bool header = false;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        if (!header) { header = true; continue; }
        std::vector<std::string> c;
        std::stringstream ss(line);
        std::string item;
        while (std::getline(ss, item, ',')) c.push_back(item);
        if (c.size() != 10) { std::printf("bad row: %s\n", line.c_str()); continue; }
        BesselRow r;
        r.region = c[0];
        r.f = c[1] == "1";
        r.v = std::strtod(c[2].c_str(), nullptr);
        r.x = std::strtod(c[3].c_str(), nullptr);
        r.log_i = std::strtold(c[4].c_str(), nullptr);
        r.log_k = std::strtold(c[5].c_str(), nullptr);
        r.ratio_i = std::strtold(c[6].c_str(), nullptr);
        r.ratio_k = std::strtold(c[7].c_str(), nullptr);
        r.log_ie = std::strtold(c[8].c_str(), nullptr);
        r.log_ke = std::strtold(c[9].c_str(), nullptr);
        rows.push_back(r);
    }
    return rows;
}

}  // namespace sm_test
