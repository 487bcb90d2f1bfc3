// stablemath/stablemath.hpp - everything public in one include.
#pragma once
#include "config.hpp"
#include "lse_state.hpp"
#include "logsumexp.hpp"
#include "softmax.hpp"
#include "sparsemax.hpp"
#include "stablemax.hpp"
#include "cpu/stablemax.hpp"
#include "cpu/losses.hpp"
#include "topk.hpp"
