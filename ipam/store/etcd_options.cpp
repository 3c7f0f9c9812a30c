#include "ipam/store/etcd_options.hpp"

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace blockd::ipam {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return out;
    start = at + 1;
  }
}

Result<std::string> percent_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    unsigned v = 0;
    if (i + 2 >= s.size() || std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16).ptr != s.data() + i + 3) {
      return invalid("bad percent escape in \"" + s + "\"");
    }
    out += static_cast<char>(v);
    i += 2;
  }
  return out;
}

Result<EtcdEndpoint> parse_endpoint(const std::string& text) {
  EtcdEndpoint ep;
  std::string port;
  if (text.starts_with("[")) {
    const auto close = text.find(']');
    if (close == std::string::npos) return invalid("endpoint \"" + text + "\": missing ']' after the IPv6 address");
    ep.host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return invalid("endpoint \"" + text + "\": expected ':' and a port after ']'");
      port = text.substr(close + 2);
    }
  } else {
    const auto colon = text.find(':');
    ep.host = text.substr(0, colon);
    if (colon != std::string::npos) port = text.substr(colon + 1);
  }
  if (ep.host.empty()) return invalid("endpoint \"" + text + "\": empty host (expected host:port)");
  if (!port.empty() || text.ends_with(":")) {
    unsigned v = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (ec != std::errc{} || ptr != port.data() + port.size() || v == 0 || v > 65535) {
      return invalid("endpoint \"" + text + "\": port must be a number from 1 to 65535");
    }
    ep.port = static_cast<std::uint16_t>(v);
  }
  return ep;
}

Result<std::chrono::milliseconds> parse_duration(const std::string& text) {
  std::string digits = text;
  long scale = 1000;  // bare numbers are seconds
  if (text.ends_with("ms")) {
    digits = text.substr(0, text.size() - 2);
    scale = 1;
  } else if (text.ends_with("s")) {
    digits = text.substr(0, text.size() - 1);
  }
  long v = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (digits.empty() || ec != std::errc{} || ptr != digits.data() + digits.size() || v <= 0 || v > 3600 * 1000) {
    return invalid("timeout \"" + text + "\": expected a positive duration such as 5s or 1500ms");
  }
  return std::chrono::milliseconds(v * scale);
}

Result<std::string> read_password_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return invalid("password file \"" + path + "\" cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  if (s.empty()) return invalid("password file \"" + path + "\" is empty");
  return s;
}

}  // namespace

std::string EtcdEndpoint::str() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string EtcdOptions::describe() const {
  std::string out = "etcd://";
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    if (i > 0) out += ',';
    out += endpoints[i].str();
  }
  return out;
}

Result<EtcdOptions> parse_etcd_url(const std::string& url, const EnvLookup& env) {
  auto fail = [&](const std::string& why) { return invalid("datastore \"" + url + "\": " + why); };
  if (!url.starts_with("etcd://")) return fail("an etcd URL starts with etcd://");
  const std::string rest = url.substr(7);
  const auto q = rest.find('?');
  const std::string hosts = rest.substr(0, q);
  if (hosts.empty()) return fail("no endpoint (expected etcd://host:port[,host:port...])");

  EtcdOptions opts;
  for (const auto& text : split(hosts, ',')) {
    auto ep = parse_endpoint(text);
    if (!ep) return fail(ep.error().message);
    opts.endpoints.push_back(*ep);
  }

  std::string password_file;
  auto from_env = [&](const char* name, std::string& field) {
    if (const char* v = env(name); v != nullptr && field.empty()) field = v;
  };
  if (q != std::string::npos) {
    for (const auto& pair : split(rest.substr(q + 1), '&')) {
      if (pair.empty()) continue;
      const auto eq = pair.find('=');
      const std::string name = pair.substr(0, eq);
      auto value = percent_decode(eq == std::string::npos ? "" : pair.substr(eq + 1));
      if (!value) return fail(value.error().message);
      if (value->empty()) return fail("parameter \"" + name + "\" needs a value");
      if (name == "cacert") opts.cacert = *value;
      else if (name == "cert") opts.cert = *value;
      else if (name == "key") opts.key = *value;
      else if (name == "username") opts.username = *value;
      else if (name == "password-file") password_file = *value;
      else if (name == "password") {
        return fail("a password is never taken from the URL (it would show on command lines): "
                    "set BLOCKD_ETCD_PASSWORD or password-file=FILE");
      } else if (name == "timeout") {
        auto t = parse_duration(*value);
        if (!t) return fail(t.error().message);
        opts.request_timeout = *t;
        opts.dial_timeout = std::min(opts.dial_timeout, *t);
      } else {
        return fail("unknown parameter \"" + name + "\" (known: cacert, cert, key, username, password-file, timeout)");
      }
    }
  }
  from_env("BLOCKD_ETCD_CACERT", opts.cacert);
  from_env("BLOCKD_ETCD_CERT", opts.cert);
  from_env("BLOCKD_ETCD_KEY", opts.key);
  from_env("BLOCKD_ETCD_USERNAME", opts.username);
  from_env("BLOCKD_ETCD_PASSWORD_FILE", password_file);
  if (!password_file.empty()) {
    auto p = read_password_file(password_file);
    if (!p) return fail(p.error().message);
    opts.password = *p;
  }
  from_env("BLOCKD_ETCD_PASSWORD", opts.password);

  if (opts.cert.empty() != opts.key.empty()) {
    return fail("a client certificate needs both cert= and key= (or BLOCKD_ETCD_CERT and BLOCKD_ETCD_KEY)");
  }
  if (!opts.username.empty() && opts.password.empty()) {
    return fail("username \"" + opts.username + "\" needs a password: set BLOCKD_ETCD_PASSWORD or password-file=FILE");
  }
  if (opts.username.empty() && !opts.password.empty()) {
    return fail("a password is set but no username (username= or BLOCKD_ETCD_USERNAME)");
  }
  return opts;
}

Result<EtcdOptions> parse_etcd_url(const std::string& url) {
  return parse_etcd_url(url, [](const char* name) -> const char* { return std::getenv(name); });
}

}  // namespace blockd::ipam
