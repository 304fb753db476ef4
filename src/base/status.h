// Status and Result<T> are part of the public API (include/inferd/status.h).
#pragma once

#include "inferd/status.h"
