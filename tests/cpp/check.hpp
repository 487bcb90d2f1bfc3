// Minimal, dependency-free checking helpers for the stablemath C++ tests.
//
//   CHECK(cond)                  records a failure (with file:line and the expression) and goes on
//   CHECK_MSG(cond, fmt, ...)    same, with a printf-style explanation
//   CHECK_EQ_BITS(a, b)          bitwise equality of two floating values (NaN == NaN of the same bits)
//   sm_test::finish()            prints a summary; returns the process exit code (0 = all passed)
//
// Failure reports are capped per test program so that a systematic bug does not flood the log.
#pragma once
#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

namespace sm_test {

struct Counters {
    long checks = 0;
    long failures = 0;
    long printed = 0;
};

inline Counters& counters() {
    static Counters c;
    return c;
}

inline constexpr long kMaxPrinted = 60;

// Name of the current section, printed with each failure.
inline std::string& section() {
    static std::string s;
    return s;
}

struct Section {
    std::string saved;
    explicit Section(const std::string& name) : saved(section()) { section() = name; }
    ~Section() { section() = saved; }
};

inline void report_failure(const char* file, int line, const char* expr, const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

inline void report_failure(const char* file, int line, const char* expr, const char* fmt, ...) {
    Counters& c = counters();
    ++c.failures;
    if (c.printed >= kMaxPrinted) {
        if (c.printed == kMaxPrinted) std::printf("  ... further failures not printed\n");
        ++c.printed;
        return;
    }
    ++c.printed;
    std::printf("FAIL %s:%d [%s] %s", file, line, section().c_str(), expr);
    if (fmt && *fmt) {
        std::printf(" -- ");
        va_list ap;
        va_start(ap, fmt);
        std::vprintf(fmt, ap);
        va_end(ap);
    }
    std::printf("\n");
    std::fflush(stdout);
}

inline int finish(const char* program) {
    const Counters& c = counters();
    std::printf("%s: %ld checks, %ld failures\n", program, c.checks, c.failures);
    return c.failures == 0 ? 0 : 1;
}

template <class T>
bool same_bits(T a, T b) {
    return std::memcmp(&a, &b, sizeof(T)) == 0;
}

// Floating value for messages.
inline double d(long double v) { return static_cast<double>(v); }

}  // namespace sm_test

#define SM_CHECK_IMPL(cond, expr_text, ...)                                                         \
    do {                                                                                            \
        ++::sm_test::counters().checks;                                                             \
        if (!(cond)) ::sm_test::report_failure(__FILE__, __LINE__, expr_text, __VA_ARGS__);         \
    } while (0)

#define CHECK(cond) SM_CHECK_IMPL(cond, #cond, "%s", "")
#define CHECK_MSG(cond, ...) SM_CHECK_IMPL(cond, #cond, __VA_ARGS__)
#define CHECK_EQ_BITS(a, b)                                                                         \
    SM_CHECK_IMPL(::sm_test::same_bits((a), (b)), #a " == " #b " (bitwise)", "%.17g vs %.17g",     \
                  static_cast<double>(a), static_cast<double>(b))
