#pragma once
// Binds the Config options to a CLI11 command and resolves them after parsing:
// flag > PARLEY_* environment variable > config file > default. One loader per command.
// Not thread-safe; used on the main thread during start-up.
#include <map>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace parley {

struct OptionInfo {
  std::string name;      // flag without dashes, e.g. "max-body-bytes"
  std::string env;       // PARLEY_MAX_BODY_BYTES
  std::string key;       // config-file key: max_body_bytes
  std::string fallback;  // default, as text
  std::string help;
};

class ConfigLoader {
 public:
  /// Adds --config and one flag per option to `cmd`.
  void register_flags(CLI::App& cmd);
  /// Resolves every option; throws std::runtime_error with a clear message on a bad value
  /// or an unreadable config file.
  Config resolve() const;

  /// Every option, for --help and the README table.
  static std::vector<OptionInfo> describe();

 private:
  std::map<std::string, std::string> given_;
  std::map<std::string, CLI::Option*> flags_;
  std::string config_path_;
};

}  // namespace parley
