#pragma once

#include <cstdint>
#include <string>

namespace tally {

// "1234567" -> "1,234,567": reports are read by people.
std::string Grouped(int64_t n);

}  // namespace tally
