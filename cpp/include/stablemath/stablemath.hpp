// stablemath/stablemath.hpp - everything public in one include.
#pragma once
#include "config.hpp"
#include "lse_state.hpp"
#include "logsumexp.hpp"
#include "softmax.hpp"
#include "topk.hpp"
