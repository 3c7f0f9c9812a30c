// bgpspeak: a standalone BGP speaker over blockd's bgp library, for tests, benchmarks and
// operators. Announces the prefixes of a file (next hop self), keeps the sessions up until
// SIGTERM, logs every state change and re-reads the file on SIGHUP, sending the difference.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>

#include "bgp/speaker.hpp"
#include "ipam/net/bgp_peer_rules.hpp"

namespace {

using namespace blockd;
using namespace blockd::bgp;

struct UserError {
  std::string message;
};

// "10.0.0.1:65001", "fd00::1:65001" or "[fd00::1]:65001".
PeerConfig parse_peer(const std::string& text) {
  std::string addr;
  std::string as;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find("]:");
    if (close == std::string::npos) throw UserError{"--peer " + text + ": expected [ADDRESS]:AS"};
    addr = text.substr(1, close - 1);
    as = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) throw UserError{"--peer " + text + ": expected ADDRESS:AS"};
    addr = text.substr(0, colon);
    as = text.substr(colon + 1);
  }
  auto a = Address::parse(addr);
  if (!a) throw UserError{"--peer " + text + ": " + a.error().message};
  PeerConfig p;
  p.address = *a;
  try {
    std::size_t used = 0;
    const unsigned long v = std::stoul(as, &used);
    if (used != as.size() || v == 0 || v > 0xffffffffUL) throw std::out_of_range("as");
    p.peer_as = static_cast<std::uint32_t>(v);
  } catch (const std::exception&) {
    throw UserError{"--peer " + text + ": AS must be a number 1..4294967295"};
  }
  return p;
}

Result<std::vector<AdvertisedRoute>> read_announce(const std::string& path) {
  std::ifstream in(path);
  if (!in) return invalid("--announce " + path + ": cannot read the file");
  std::vector<AdvertisedRoute> routes;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    const auto hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::string word;
    if (!(words >> word)) continue;
    auto p = Prefix::parse(word);
    if (!p) return invalid("--announce " + path + " line " + std::to_string(n) + ": " + p.error().message);
    routes.push_back({*p, std::nullopt, {}, {}});
  }
  return routes;
}

void dump_received(const Speaker& speaker, const std::string& path) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    for (const auto& r : speaker.received()) {
      out << r.prefix.str() << " via " << (r.next_hop ? r.next_hop->str() : "-") << " from " << r.peer.str()
          << " path " << (r.as_path.empty() ? "-" : r.as_path) << (r.stale ? " stale" : "") << "\n";
    }
  }
  std::rename(tmp.c_str(), path.c_str());
}

// The command line as given.
struct Flags {
  std::uint32_t local_as = 0;
  std::string router_id;
  std::vector<std::string> peers;
  std::string password;
  std::uint16_t port = 179;
  std::string listen;
  std::string announce;
  bool passive = false;
  std::uint16_t hold_time = 90;
  int gr_time = -1;
  bool restarting = false;
  int ttl_hops = 0;
  std::string dump;
  std::string log_level = "info";
};

void add_flags(CLI::App& app, Flags& f) {
  app.add_option("--local-as", f.local_as, "our AS number")->required();
  app.add_option("--router-id", f.router_id, "BGP identifier (IPv4 address)")->required();
  app.add_option("--peer", f.peers, "peer as ADDRESS:AS (repeatable)")->required();
  app.add_option("--password", f.password, "TCP-MD5 password for every peer");
  app.add_option("--port", f.port, "BGP port: listen on it and connect to it (default 179)");
  app.add_option("--listen", f.listen, "listen (and connect from) this address only");
  app.add_option("--announce", f.announce, "file of prefixes to announce, one per line")->required();
  app.add_flag("--passive", f.passive, "wait for peers to connect");
  app.add_option("--hold-time", f.hold_time, "hold time offered (0 or >= 3 seconds)");
  app.add_option("--graceful-restart", f.gr_time, "enable graceful restart with this restart time (seconds)");
  app.add_flag("--restarting", f.restarting, "set the graceful restart Restart State bit (we just restarted)");
  app.add_option("--ttl-security", f.ttl_hops, "GTSM: accept peers at most this many hops away");
  app.add_option("--dump-received", f.dump, "write received routes to this file on every change");
  app.add_option("--log-level", f.log_level, "trace, debug, info, warn, error");
}

// What the speaker runs with, checked; a UserError names the flag that is wrong.
struct Setup {
  SpeakerConfig config;
  std::vector<PeerConfig> peers;
  std::vector<AdvertisedRoute> routes;
};

Setup setup_from(const Flags& f) {
  Setup s;
  SpeakerConfig& config = s.config;
  config.local_as = f.local_as;
  auto id = Address::parse(f.router_id);
  if (!id || !id->is_v4()) throw UserError{"--router-id " + f.router_id + ": must be an IPv4 address"};
  config.router_id = *id;
  config.listen_port = f.port;
  if (!f.listen.empty()) {
    auto a = Address::parse(f.listen);
    if (!a) throw UserError{"--listen " + f.listen + ": " + a.error().message};
    config.listen_address = *a;
  }
  if (f.hold_time == 1 || f.hold_time == 2) throw UserError{"--hold-time: must be 0 or at least 3"};
  config.hold_time = f.hold_time;
  if (f.gr_time >= 0) {
    if (f.gr_time > 4095) throw UserError{"--graceful-restart: at most 4095 seconds"};
    config.graceful_restart = {true, static_cast<std::uint16_t>(f.gr_time), f.restarting};
  }
  if (f.ttl_hops < 0 || f.ttl_hops > 254) throw UserError{"--ttl-security: must be 1..254"};
  if (auto why = tcp_md5_password_problem(f.password); !why.empty()) throw UserError{"--password: " + why};
  for (const auto& p : f.peers) {
    PeerConfig pc = parse_peer(p);
    pc.password = f.password;
    pc.passive = f.passive;
    pc.port = f.port;
    if (f.ttl_hops > 0) pc.ttl_security_hops = f.ttl_hops;
    s.peers.push_back(pc);
  }
  if (auto v = validate(config); !v) throw UserError{"--local-as/--router-id: " + v.error().message};
  if (auto v = validate(s.peers); !v) throw UserError{"--peer: " + v.error().message};
  auto r = read_announce(f.announce);
  if (!r) throw UserError{r.error().message};
  s.routes = std::move(*r);
  return s;
}

// Until SIGTERM or SIGINT (a graceful stop when graceful restart is on); SIGHUP re-reads the
// announce file and sends the difference.
void run_until_signalled(boost::asio::io_context& io, Speaker& speaker, const Flags& f, bool graceful) {
  boost::asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      auto r = read_announce(f.announce);
      if (!r) {
        spdlog::error("SIGHUP: {} (keeping the previous set)", r.error().message);
      } else {
        spdlog::info("SIGHUP: announcing {} prefix(es) from {}", r->size(), f.announce);
        speaker.set_advertise(std::move(*r));
      }
      signals.async_wait(on_signal);
      return;
    }
    spdlog::info("bgpspeak: signal {}, stopping{}", sig, graceful ? " (graceful restart: peers keep our routes)" : "");
    speaker.stop(graceful);
    speaker.when_drained([&] { io.stop(); });  // the Cease NOTIFICATIONs go out first (bounded)
  };
  signals.async_wait(on_signal);
  io.run();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bgpspeak: announce the prefixes of a file over BGP"};
  Flags f;
  add_flags(app, f);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "bgpspeak: " << e.what() << "\n";
    return 1;
  }

  Setup setup;
  try {
    setup = setup_from(f);
  } catch (const UserError& e) {
    std::cerr << "bgpspeak: " << e.message << "\n";
    return 1;
  }
  spdlog::set_level(spdlog::level::from_str(f.log_level));

  boost::asio::io_context io;
  Speaker speaker(io, setup.config);
  (void)speaker.set_peers(setup.peers);
  speaker.set_advertise(setup.routes);
  if (!f.dump.empty()) {
    speaker.on_received_change([&] { dump_received(speaker, f.dump); });
    dump_received(speaker, f.dump);
  }
  if (auto s = speaker.start(); !s) {
    spdlog::error("{}", s.error().message);
    return exit_status(s.error());
  }
  spdlog::info("bgpspeak: AS {} router-id {}, {} peer(s), announcing {} prefix(es) from {}", f.local_as, f.router_id,
               setup.peers.size(), setup.routes.size(), f.announce);
  run_until_signalled(io, speaker, f, setup.config.graceful_restart.enabled);
  return 0;
}
