#include "config/config.hpp"

namespace parley {

std::string Config::effective_database_url() const {
  if (!database_url.empty()) return database_url;
  return "sqlite:" + data_dir + "/parley.db";
}

}  // namespace parley
