#pragma once

#include <string>
#include <string_view>

namespace tally {

// Appends `s` to *out as a JSON string literal, quotes included. `s` must be
// UTF-8. Shared by the files tally writes as JSON: dead letters, the state
// dir's identity.
void AppendJsonString(std::string_view s, std::string* out);

}  // namespace tally
