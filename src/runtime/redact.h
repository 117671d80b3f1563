#pragma once

#include <string>
#include <string_view>

namespace tally {

// Secrets kept out of every message tally prints: an error that echoes what
// a person typed must not put a password on a terminal, in a log or in CI
// output. Secrets belong in environment variables or files (see --kafka-config,
// TALLY_KAFKA_SASL_PASSWORD, TALLY_CASSANDRA_PASSWORD), never in a message.

// True if a configuration key names a secret: its name holds "password" or
// "secret", or it is a JAAS or OAUTHBEARER config, which carry credentials
// inline. Case-insensitive.
bool IsSecretKey(std::string_view key);

// True if `url` has userinfo in its authority: scheme://USER[:PASSWORD]@host.
bool HasUserinfo(std::string_view url);

// `url` with the userinfo of its authority replaced by "***"
// ("kafka://u:pw@host:9092/t" -> "kafka://***@host:9092/t"); other text as is.
std::string RedactUserinfo(std::string_view url);

// A setting as typed, "KEY=VALUE" or mistyped "KEY VALUE" / "KEY:VALUE", for
// a message: if KEY names a secret, everything after it is "***".
std::string RedactSetting(std::string_view text);

}  // namespace tally
