// The local file store: each object a file under the root, named by its key (Parley-made ids:
// "<app>/<file>[.<variant>]"); writes go to a temporary name first and are renamed into
// place, so a reader never sees half an object.
#include <atomic>
#include <fstream>
#include <system_error>

#include "files/storage.hpp"

namespace parley::files {

namespace fs = std::filesystem;

namespace {

// Keys are made by Parley, but a key that could leave the root is refused all the same.
bool safe_key(const std::string& key) {
  if (key.empty() || key.size() > 512 || key.front() == '/') return false;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.' || c == '/';
    if (!ok) return false;
  }
  return key.find("..") == std::string::npos && key.find("//") == std::string::npos;
}

Error io_error(const std::string& what, const std::error_code& ec) {
  return {Errc::unavailable, "file storage: " + what + ": " + ec.message()};
}

class LocalStorage final : public Storage {
 public:
  explicit LocalStorage(fs::path root) : root_(std::move(root)) {
    std::error_code ec;
    fs::create_directories(root_, ec);
  }

  std::string kind() const override { return "local"; }
  std::string describe() const override { return root_.string(); }

  Result<Unit> check() override {
    std::error_code ec;
    fs::create_directories(root_, ec);
    if (ec) return io_error("cannot create " + root_.string(), ec);
    auto probe = root_ / ".probe";
    {
      std::ofstream out(probe, std::ios::binary | std::ios::trunc);
      if (!out) return Error{Errc::unavailable, "file storage: " + root_.string() + " is not writable"};
    }
    fs::remove(probe, ec);
    return Unit{};
  }

  Result<Unit> put_file(const std::string& key, const fs::path& src, const std::string& /*type*/) override {
    PARLEY_ASSIGN_OR_RETURN(auto dest, path_of(key));
    std::error_code ec;
    fs::create_directories(dest.parent_path(), ec);
    if (ec) return io_error("cannot create " + dest.parent_path().string(), ec);
    auto tmp = temp_name(dest);
    fs::rename(src, tmp, ec);
    if (ec) {  // another file system: copy
      ec.clear();
      fs::copy_file(src, tmp, fs::copy_options::overwrite_existing, ec);
      if (ec) return io_error("cannot store " + key, ec);
    }
    fs::rename(tmp, dest, ec);
    if (ec) {
      fs::remove(tmp, ec);
      return io_error("cannot store " + key, ec);
    }
    return Unit{};
  }

  Result<Unit> get_to_file(const std::string& key, const fs::path& dest) override {
    PARLEY_ASSIGN_OR_RETURN(auto src, path_of(key));
    std::error_code ec;
    if (!fs::exists(src, ec)) return not_found("file object");
    fs::copy_file(src, dest, fs::copy_options::overwrite_existing, ec);
    if (ec) return io_error("cannot read " + key, ec);
    return Unit{};
  }

  Result<ObjectInfo> stat(const std::string& key) override {
    PARLEY_ASSIGN_OR_RETURN(auto p, path_of(key));
    std::error_code ec;
    auto size = fs::file_size(p, ec);
    if (ec) return not_found("file object");
    return ObjectInfo{size, ""};
  }

  Result<Unit> remove(const std::string& key) override {
    PARLEY_ASSIGN_OR_RETURN(auto p, path_of(key));
    std::error_code ec;
    fs::remove(p, ec);
    if (ec) return io_error("cannot remove " + key, ec);
    return Unit{};
  }

  std::optional<fs::path> local_path(const std::string& key) const override {
    if (!safe_key(key)) return std::nullopt;
    return root_ / key;
  }
  std::optional<SignedUrl> presign_get(const std::string&, const std::string&, const std::string&,
                                       std::chrono::seconds) const override {
    return std::nullopt;
  }
  std::optional<SignedUrl> presign_put(const std::string&, std::uint64_t, const std::string&,
                                       std::chrono::seconds) const override {
    return std::nullopt;
  }

 private:
  Result<fs::path> path_of(const std::string& key) const {
    if (!safe_key(key)) return Error{Errc::invalid_request, "file storage: invalid key"};
    return root_ / key;
  }
  static fs::path temp_name(const fs::path& dest) {
    static std::atomic<std::uint64_t> n{0};
    auto p = dest;
    p += ".tmp" + std::to_string(n.fetch_add(1));
    return p;
  }

  fs::path root_;
};

}  // namespace

std::unique_ptr<Storage> make_local_storage(fs::path root) { return std::make_unique<LocalStorage>(std::move(root)); }

}  // namespace parley::files
