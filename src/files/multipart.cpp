#include "files/multipart.hpp"

#include <cctype>
#include <fstream>

#include "files/checksum.hpp"

namespace parley::files {

namespace {

Error bad(std::string msg) { return {Errc::invalid_request, "multipart body: " + std::move(msg)}; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A parameter of a header value like `form-data; name="file"; filename="a.png"`; quoted
// strings may hold `;` and backslash escapes.
std::optional<std::string> header_param(std::string_view value, std::string_view want) {
  std::size_t i = value.find(';');
  while (i != std::string_view::npos && i < value.size()) {
    ++i;
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
    auto eq = value.find('=', i);
    if (eq == std::string_view::npos) return std::nullopt;
    auto key = lower(trim(value.substr(i, eq - i)));
    i = eq + 1;
    std::string v;
    if (i < value.size() && value[i] == '"') {
      ++i;
      while (i < value.size() && value[i] != '"') {
        if (value[i] == '\\' && i + 1 < value.size()) ++i;
        v.push_back(value[i++]);
      }
      if (i >= value.size()) return std::nullopt;  // unterminated quote
      ++i;
      i = value.find(';', i);
    } else {
      auto end = value.find(';', i);
      v = std::string(trim(value.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i)));
      i = end;
    }
    if (key == want) return v;
  }
  return std::nullopt;
}

// RFC 5987 `UTF-8''percent%20encoded`; nullopt when it is not that.
std::optional<std::string> ext_value(std::string_view v) {
  auto q = v.find("''");
  if (q == std::string_view::npos || lower(v.substr(0, q)) != "utf-8") return std::nullopt;
  std::string out;
  for (std::size_t i = q + 2; i < v.size(); ++i) {
    if (v[i] == '%' && i + 2 < v.size() && std::isxdigit(static_cast<unsigned char>(v[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(v[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(v.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(v[i]);
    }
  }
  return out;
}

class Reader {
 public:
  explicit Reader(const std::filesystem::path& p) : in_(p, std::ios::binary) {}
  bool open() const { return static_cast<bool>(in_); }
  // Makes at least `n` bytes available unless the body ends first; false at the end.
  bool fill(std::size_t n) {
    while (buf_.size() - pos_ < n) {
      if (eof_) return false;
      if (pos_ > 0) {
        buf_.erase(0, pos_);
        pos_ = 0;
      }
      std::size_t old = buf_.size();
      buf_.resize(old + kChunk);
      in_.read(buf_.data() + old, static_cast<std::streamsize>(kChunk));
      buf_.resize(old + static_cast<std::size_t>(in_.gcount()));
      if (!in_) eof_ = true;
    }
    return true;
  }
  std::string_view view() const { return std::string_view(buf_).substr(pos_); }
  void consume(std::size_t n) { pos_ += n; }
  bool at_end() {
    fill(1);
    return view().empty();
  }

 private:
  static constexpr std::size_t kChunk = std::size_t{64} << 10;
  std::ifstream in_;
  std::string buf_;
  std::size_t pos_ = 0;
  bool eof_ = false;
};

}  // namespace

std::optional<std::string> form_boundary(std::string_view content_type) {
  auto semi = content_type.find(';');
  if (lower(trim(content_type.substr(0, semi))) != "multipart/form-data") return std::nullopt;
  auto b = header_param(content_type, "boundary");
  if (!b || b->empty() || b->size() > 70) return std::nullopt;
  return b;
}

Result<MultipartForm> read_multipart(const std::filesystem::path& body, const std::string& boundary,
                                     const std::filesystem::path& file_out, const MultipartLimits& limits) {
  Reader r(body);
  if (!r.open()) return Error{Errc::internal, "cannot read the spooled request body"};
  const std::string first = "--" + boundary;
  const std::string delim = "\r\n--" + boundary;
  MultipartForm form;

  // The preamble (ignored) up to the first boundary, which may also start the body.
  for (;;) {
    r.fill(first.size() + 2);
    auto v = r.view();
    if (v.substr(0, first.size()) == first) {
      r.consume(first.size());
      break;
    }
    auto at = v.find(delim);
    if (at != std::string_view::npos) {
      r.consume(at + delim.size());
      break;
    }
    if (v.size() < delim.size()) return bad("no part with the boundary the Content-Type names");
    r.consume(v.size() - delim.size() + 1);
  }

  for (;;) {
    // After a boundary: "--" ends the form, CRLF starts a part.
    if (!r.fill(2)) return bad("truncated after a boundary");
    auto after = r.view().substr(0, 2);
    if (after == "--") break;
    if (after != "\r\n") return bad("a boundary is followed by something else than CRLF");
    r.consume(2);

    // The part's head.
    std::size_t head_end = std::string_view::npos;
    for (std::size_t want = 256;; want *= 2) {
      bool more = r.fill(std::min(want, limits.max_header_bytes + 4));
      head_end = r.view().find("\r\n\r\n");
      if (head_end != std::string_view::npos || r.view().size() >= limits.max_header_bytes + 4) break;
      if (!more) return bad("truncated in a part's headers");
    }
    if (head_end == std::string_view::npos || head_end > limits.max_header_bytes) {
      return bad("a part's headers are longer than " + std::to_string(limits.max_header_bytes) + " bytes");
    }
    std::string head(r.view().substr(0, head_end));
    r.consume(head_end + 4);
    std::optional<std::string> name, filename, filename_ext, type;
    std::string_view hv(head);
    while (!hv.empty()) {
      auto eol = hv.find("\r\n");
      auto line = hv.substr(0, eol);
      hv = eol == std::string_view::npos ? std::string_view() : hv.substr(eol + 2);
      auto colon = line.find(':');
      if (colon == std::string_view::npos) return bad("a part's header line has no ':'");
      auto key = lower(trim(line.substr(0, colon)));
      auto value = trim(line.substr(colon + 1));
      if (key == "content-disposition") {
        if (lower(trim(value.substr(0, value.find(';')))) != "form-data") {
          return bad("a part's Content-Disposition is not form-data");
        }
        name = header_param(value, "name");
        filename = header_param(value, "filename");
        if (auto ext = header_param(value, "filename*")) filename_ext = ext_value(*ext);
      } else if (key == "content-type") {
        type = std::string(value);
      }
    }
    if (!name) return bad("a part has no Content-Disposition name");
    bool is_file = filename.has_value() || filename_ext.has_value();
    if (is_file && form.file) return bad("more than one file part");
    if (!is_file && form.fields.size() >= limits.max_fields) return bad("too many fields");

    // The part's bytes, up to the next delimiter.
    std::ofstream out;
    std::optional<Sha256> hash;
    std::uint64_t size = 0;
    std::string value;
    if (is_file) {
      out.open(file_out, std::ios::binary | std::ios::trunc);
      if (!out) return Error{Errc::internal, "cannot write the uploaded file"};
      hash.emplace();
    }
    auto emit = [&](std::string_view bytes) -> Status {
      size += bytes.size();
      if (is_file) {
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        hash->update(bytes);
        if (!out) return Error{Errc::unavailable, "cannot write the uploaded file"};
      } else {
        if (value.size() + bytes.size() > limits.max_field_bytes) {
          return bad("field '" + *name + "' is longer than " + std::to_string(limits.max_field_bytes) + " bytes");
        }
        value.append(bytes);
      }
      return ok_status();
    };
    for (;;) {
      bool more = r.fill(delim.size() + (std::size_t{64} << 10));
      auto v = r.view();
      auto at = v.find(delim);
      if (at != std::string_view::npos) {
        PARLEY_TRY(emit(v.substr(0, at)));
        r.consume(at + delim.size());
        break;
      }
      if (!more) return bad("truncated: the body ends inside a part (no closing boundary)");
      auto safe = v.size() - (delim.size() - 1);
      PARLEY_TRY(emit(v.substr(0, safe)));
      r.consume(safe);
    }
    if (is_file) {
      out.close();
      if (!out) return Error{Errc::unavailable, "cannot write the uploaded file"};
      form.file = MultipartFile{*name, filename_ext ? *filename_ext : *filename, type.value_or(""), size, hash->hex()};
    } else {
      form.fields.insert_or_assign(*name, std::move(value));
    }
  }
  return form;
}

}  // namespace parley::files
