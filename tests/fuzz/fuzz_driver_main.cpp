// main() for a libFuzzer target where libFuzzer is not available (g++ has no -fsanitize=fuzzer):
// not coverage-guided, but deterministic and bounded, for CI under ASan + UBSan.
//
//   fuzz_scalar [-runs=N] [-seed=S] [-max_total_time=SECONDS] [-artifact_prefix=DIR/] [FILE_OR_DIR...]
//
// With files (or directories of files) it replays them, each once, and exits (a finding aborts).
// Otherwise it first feeds every two-byte prefix (the target's selector and first special-value
// choices) followed by a fixed pattern, then N pseudo-random inputs from seed S: random lengths
// (0-96 bytes), bytes either uniform or drawn mostly from small values, which the target decodes as
// special values. It stops after N inputs or SECONDS. On abort (a violated property, or a
// sanitizer with abort_on_error=1) the current input is written to <artifact_prefix>crash-input so
// that it can be replayed. Prints the number of inputs run.
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

const uint8_t* g_data = nullptr;
size_t g_size = 0;
char g_artifact[4096] = "crash-input";

// Writes the input being run; only async-signal-safe calls.
void on_abort(int) {
    const int fd = ::open(g_artifact, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        if (g_data != nullptr && g_size > 0) {
            ssize_t w = ::write(fd, g_data, g_size);
            (void)w;
        }
        ::close(fd);
        static const char msg[] = "fuzz driver: input written to the artifact file\n";
        ssize_t w = ::write(2, msg, sizeof msg - 1);
        (void)w;
    }
    std::signal(SIGABRT, SIG_DFL);
    std::raise(SIGABRT);
}

void run_one(const std::vector<uint8_t>& in) {
    g_data = in.data();
    g_size = in.size();
    LLVMFuzzerTestOneInput(in.data(), in.size());
    g_data = nullptr;
}

struct SplitMix64 {
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
};

bool option(const char* arg, const char* name, std::string& value) {
    const size_t n = std::strlen(name);
    if (std::strncmp(arg, name, n) != 0) return false;
    value = arg + n;
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    uint64_t runs = 100000, seed = 1;
    double max_seconds = 0;  // 0: no time limit
    std::string prefix;
    std::vector<std::string> paths;
    for (int i = 1; i < argc; ++i) {
        std::string v;
        if (option(argv[i], "-runs=", v)) runs = std::strtoull(v.c_str(), nullptr, 10);
        else if (option(argv[i], "-seed=", v)) seed = std::strtoull(v.c_str(), nullptr, 10);
        else if (option(argv[i], "-max_total_time=", v)) max_seconds = std::strtod(v.c_str(), nullptr);
        else if (option(argv[i], "-artifact_prefix=", v)) prefix = v;
        else if (argv[i][0] == '-') std::fprintf(stderr, "fuzz driver: ignoring option %s\n", argv[i]);
        else paths.push_back(argv[i]);
    }
    std::snprintf(g_artifact, sizeof g_artifact, "%scrash-input", prefix.c_str());
    std::signal(SIGABRT, on_abort);

    if (!paths.empty()) {  // replay
        size_t n = 0;
        for (const std::string& p : paths) {
            std::vector<std::string> files;
            if (std::filesystem::is_directory(p)) {
                for (const auto& e : std::filesystem::directory_iterator(p))
                    if (e.is_regular_file()) files.push_back(e.path().string());
            } else {
                files.push_back(p);
            }
            for (const std::string& f : files) {
                std::ifstream is(f, std::ios::binary);
                if (!is) {
                    std::fprintf(stderr, "fuzz driver: cannot read %s\n", f.c_str());
                    return 2;
                }
                std::vector<uint8_t> in((std::istreambuf_iterator<char>(is)), std::istreambuf_iterator<char>());
                run_one(in);
                ++n;
            }
        }
        std::printf("fuzz driver: replayed %zu input(s), no findings\n", n);
        return 0;
    }

    const auto t0 = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    uint64_t done = 0;
    // 1. every two-byte prefix: each function family with each first special value.
    for (int a = 0; a < 256; ++a) {
        for (int b = 0; b < 256; ++b) {
            std::vector<uint8_t> in = {uint8_t(a), uint8_t(b), 0, uint8_t(b * 7 + a), 0, uint8_t(a * 5 + b), 3, 1, 8};
            run_one(in);
            ++done;
        }
    }
    // 2. pseudo-random inputs.
    SplitMix64 rng{seed};
    std::vector<uint8_t> in;
    for (uint64_t r = 0; r < runs; ++r) {
        if ((r & 1023) == 0 && max_seconds > 0 && elapsed() > max_seconds) break;
        const uint64_t h = rng.next();
        in.resize(h % 97);
        const bool small = (h >> 8) & 1;  // bytes mostly < 64: selectors 0 (special values) and short rows
        for (uint8_t& c : in) {
            const uint64_t z = rng.next();
            c = static_cast<uint8_t>(small && (z >> 60) < 12 ? (z & 63) : z);
        }
        run_one(in);
        ++done;
    }
    std::printf("fuzz driver: %llu inputs in %.1f s (seed %llu), no findings\n", static_cast<unsigned long long>(done),
                elapsed(), static_cast<unsigned long long>(seed));
    return 0;
}
