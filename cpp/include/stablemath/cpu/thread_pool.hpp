// A small persistent thread pool for row-parallel and chunk-parallel loops.
//
// parallel_for(n, fn) runs fn(i) for every i in [0, n) with the calling thread taking part.
// Work is handed out by an atomic counter, but every index always does the same arithmetic, so
// results never depend on the thread count. If the pool is already running a loop (another Python
// thread, or a nested call) the caller runs its loop serially instead of waiting: no deadlock, and
// concurrent callers still make progress. After fork() the child starts a fresh pool.
#pragma once
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>
#if defined(__linux__)
#include <sched.h>
#include <unistd.h>
#endif
#include "../config.hpp"

STABLEMATH_NAMESPACE_BEGIN
namespace cpu {

// CPUs this process may run on (cgroup/affinity aware on Linux), at least 1.
inline int available_cpus() {
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
#endif
    return std::max(1u, std::thread::hardware_concurrency());
}

class ThreadPool {
public:
    static ThreadPool& instance() {
        // Leaked on purpose: worker threads must not be joined during interpreter shutdown.
        static ThreadPool* pool = new ThreadPool(default_threads());
        return *pool;
    }

    int num_threads() const { return threads_.load(); }

    void set_num_threads(int n) { threads_.store(std::max(1, n)); }

    template <class F>
    void parallel_for(std::size_t n, F&& fn) {
        const int want = static_cast<int>(std::min<std::size_t>(n, static_cast<std::size_t>(num_threads())));
        std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
        if (want <= 1 || !busy.owns_lock()) {
            for (std::size_t i = 0; i < n; ++i) fn(i);
            return;
        }
        ensure_workers(want - 1);
        std::function<void(std::size_t)> body = std::ref(fn);
        {
            std::lock_guard<std::mutex> lk(m_);
            job_ = &body;
            job_size_ = n;
            next_.store(0);
            helpers_wanted_ = want - 1;
            helpers_done_ = 0;
            ++generation_;
        }
        cv_start_.notify_all();
        drain();
        std::unique_lock<std::mutex> lk(m_);
        cv_done_.wait(lk, [&] { return helpers_done_ == helpers_wanted_; });
        job_ = nullptr;
    }

private:
    explicit ThreadPool(int n) : threads_(n) {}

    static int default_threads() {
        if (const char* s = std::getenv("STABLEMATH_NUM_THREADS")) {
            const int v = std::atoi(s);
            if (v > 0) return v;
        }
        return available_cpus();
    }

    void drain() {
        for (std::size_t i = next_.fetch_add(1); i < job_size_; i = next_.fetch_add(1)) (*job_)(i);
    }

    void ensure_workers(int count) {
#if defined(__linux__)
        if (owner_pid_ != getpid()) {  // forked child: the parent's workers do not exist here
            workers_.clear();
            owner_pid_ = getpid();
        }
#endif
        while (static_cast<int>(workers_.size()) < count) {
            const int id = static_cast<int>(workers_.size());
            workers_.emplace_back(std::make_unique<std::thread>([this, id] { worker_loop(id); }));
            workers_.back()->detach();
        }
    }

    void worker_loop(int id) {
        std::size_t seen = 0;
        for (;;) {
            std::unique_lock<std::mutex> lk(m_);
            cv_start_.wait(lk, [&] { return generation_ != seen; });
            seen = generation_;
            if (id >= helpers_wanted_) continue;
            lk.unlock();
            drain();
            lk.lock();
            if (++helpers_done_ == helpers_wanted_) cv_done_.notify_one();
        }
    }

    std::atomic<int> threads_;
    std::mutex busy_;  // held by the one caller whose loop the workers are running
    std::mutex m_;
    std::condition_variable cv_start_, cv_done_;
    std::vector<std::unique_ptr<std::thread>> workers_;
    std::function<void(std::size_t)>* job_ = nullptr;
    std::size_t job_size_ = 0;
    std::atomic<std::size_t> next_{0};
    int helpers_wanted_ = 0;
    int helpers_done_ = 0;
    std::size_t generation_ = 0;
#if defined(__linux__)
    pid_t owner_pid_ = getpid();
#endif
};

// Execution policies for the row algorithms: the same code runs serially or over the pool.
struct Serial {
    template <class F> void operator()(std::size_t n, F&& fn) const { for (std::size_t i = 0; i < n; ++i) fn(i); }
};
struct Parallel {
    template <class F> void operator()(std::size_t n, F&& fn) const { ThreadPool::instance().parallel_for(n, fn); }
};

}  // namespace cpu
STABLEMATH_NAMESPACE_END
