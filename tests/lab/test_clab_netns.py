"""Tests of the namespace lab runner: topology errors and path translation (pure), then real
labs: BIRD 2 (kind bird) peering with FRR (kind frr) over a veth pair, exec and inspect, a
failing exec line, and destroy leaving no namespace, process or FRR folder behind. Needs root."""
import importlib.machinery
import importlib.util
import json
import os
import subprocess
import textwrap
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "clab-netns")
loader = importlib.machinery.SourceFileLoader("clab_netns", RUNNER)
spec = importlib.util.spec_from_loader("clab_netns", loader)
clab = importlib.util.module_from_spec(spec)
loader.exec_module(clab)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.setenv("CLAB_NETNS_STATE_DIR", str(tmp_path / "state"))
    os.chmod(tmp_path, 0o755)
    return tmp_path


def write(path, text):
    path.write_text(textwrap.dedent(text))
    return str(path)


def cli(*args, check=True):
    p = subprocess.run([RUNNER, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"clab-netns {' '.join(args)}: exit {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def netns_with(prefix):
    out = subprocess.run(["ip", "netns", "list"], stdout=subprocess.PIPE, text=True).stdout
    return [l.split()[0] for l in out.splitlines() if l.startswith(prefix)]


@pytest.mark.parametrize("body,message", [
    ("topology: {nodes: {a: {}}}", "`name`"),
    ("name: x\ntopology: {nodes: {}}", "topology.nodes is missing or empty"),
    ("name: x\ntopology: {nodes: {a: {kind: ceos}}}", "topology.nodes.a.kind: 'ceos' is not one of"),
    ("name: x\ntopology: {nodes: {a: {}}, links: [{endpoints: ['a:eth1', 'b:eth1']}]}",
     "topology.links[0]: 'b:eth1' names no node"),
    ("name: x\ntopology: {nodes: {a: {}}, links: [{endpoints: ['a:eth1']}]}", "topology.links[0].endpoints"),
    ("name: x\ntopology: {nodes: {a: {binds: ['conf']}}}", "topology.nodes.a.binds: 'conf'"),
    ("name: 'x y'\ntopology: {nodes: {a: {}}}", "letters, digits"),
])
def test_bad_topology_is_named(workdir, body, message):
    with pytest.raises(clab.LabError) as e:
        clab.Lab(write(workdir / "t.clab.yml", body))
    assert message in str(e.value)


def test_container_paths_become_host_paths(workdir):
    (workdir / "b.yaml").write_text("x")
    lab = clab.Lab(write(workdir / "t.clab.yml", """\
        name: tr
        topology:
          nodes:
            n:
              binds: [b.yaml:/etc/blockd/blockd.yaml, __clabNodeDir__/run:/run/blockd, __clabDir__/store:/var/lib/blockd]
        """))
    n = lab.nodes["n"]
    state = str(workdir / "state" / "tr")
    assert n.translate("blockd --config /etc/blockd/blockd.yaml") == \
        f"blockd --config {state}/n/binds/etc/blockd/blockd.yaml"
    assert n.translate("datastore: sqlite:///var/lib/blockd/blockd.db") == \
        f"datastore: sqlite://{state}/store/blockd.db"
    assert n.translate("socket: /run/blockd/blockd.sock, x: '>/run/blockd'") == \
        f"socket: {state}/n/run/blockd.sock, x: '>{state}/n/run'"
    # Only whole path components: neither a longer name nor a path inside another path.
    assert n.translate("/run/blockd2/x /srv/run/blockd") == "/run/blockd2/x /srv/run/blockd"


BIRD_CONF = """\
    router id 10.9.0.1;
    protocol device {}
    protocol static { ipv4; route 10.99.0.0/24 blackhole; }
    protocol bgp frr { local 10.9.0.1 as 65001; neighbor 10.9.0.2 as 65002;
      ipv4 { import all; export all; }; }
    """
FRR_CONF = """\
    frr defaults datacenter
    router bgp 65002
     bgp router-id 10.9.0.2
     no bgp ebgp-requires-policy
     neighbor 10.9.0.1 remote-as 65001
    """


def two_routers(workdir, name, extra_exec=""):
    write(workdir / "bird.conf", BIRD_CONF)
    write(workdir / "frr.conf", FRR_CONF)
    return write(workdir / "t.clab.yml", f"""\
        name: {name}
        topology:
          nodes:
            r1:
              kind: bird
              image: ignored/bird:2
              binds: [bird.conf:/etc/bird/bird.conf]
              exec: [ip addr add 10.9.0.1/30 dev eth1]
            r2:
              kind: frr
              binds: [frr.conf:/etc/frr/frr.conf, __clabNodeDir__/scratch:/scratch]
              env: {{GREETING: hello, WHERE: /scratch}}
              exec:
                - ip addr add 10.9.0.2/30 dev eth1
                - sh -c 'echo $GREETING > $WHERE/said'
                {extra_exec}
          links:
            - endpoints: ["r1:eth1", "r2:eth1"]
        """)


def test_bird_and_frr_peer_and_destroy_leaves_nothing(workdir):
    name = f"ct{os.getpid()}"
    topo = two_routers(workdir, name)
    try:
        cli("deploy", "-t", topo)
        state = workdir / "state" / name
        assert (state / "r2" / "scratch" / "said").read_text() == "hello\n"  # env and binds in exec
        route = []
        for _ in range(100):  # BGP: Established and the route learned, in FRR's own table
            p = cli("exec", "-t", topo, "--node", "r2", "--", "vtysh", "-N", f"clab-{name}-r2", "-c",
                    "show ip route bgp json", check=False)
            route = json.loads(p.stdout or "{}").get("10.99.0.0/24", [])
            if route:
                break
            time.sleep(0.2)
        assert route and route[0]["nexthops"][0]["ip"] == "10.9.0.1"
        p = cli("exec", "-t", topo, "--node", "r1", "--cmd", f"birdc -s {state}/r1/bird.ctl show protocols frr")
        assert "Established" in p.stdout
        rows = json.loads(cli("inspect", "-t", topo, "--format", "json").stdout)
        assert {r["name"]: r["addresses"] for r in rows} == {"r1": ["eth1:10.9.0.1/30"], "r2": ["eth1:10.9.0.2/30"]}
        assert all(r["state"] == "running" and r["processes"] >= 1 for r in rows)
        again = cli("deploy", "-t", topo, check=False)
        assert again.returncode == 1 and "already deployed" in again.stderr
        recorded = json.loads((state / "state.json").read_text())["pids"]
        pids = recorded["r1"] + recorded["r2"]
        assert len(pids) >= 3 and all(os.path.exists(f"/proc/{p}") for p in pids)  # bird, zebra, bgpd
    finally:
        cli("destroy", "-t", topo)
    assert netns_with(f"clab-{name}-") == []
    assert not any(os.path.exists(f"/proc/{p}") for p in pids)
    assert not os.path.exists(f"/var/run/frr/clab-{name}-r2")
    assert not (workdir / "state" / name).exists()


def test_failing_exec_line_fails_the_deploy_and_cleans_up(workdir):
    name = f"cf{os.getpid()}"
    topo = two_routers(workdir, name, extra_exec="- sh -c 'echo broken; exit 3'")
    p = cli("deploy", "-t", topo, check=False)
    assert p.returncode == 1
    assert "node r2: exec \"sh -c 'echo broken; exit 3'\" exited 3" in p.stderr and "broken" in p.stderr
    assert netns_with(f"clab-{name}-") == []
    assert not os.path.exists(f"/var/run/frr/clab-{name}-r2")


def test_exec_on_an_absent_lab_or_node_says_so(workdir):
    topo = two_routers(workdir, f"ca{os.getpid()}")
    p = cli("exec", "-t", topo, "--node", "r3", "--", "true", check=False)
    assert p.returncode == 1 and "--node r3: no such node" in p.stderr
    p = cli("exec", "-t", topo, "--node", "r1", "--", "true", check=False)
    assert p.returncode == 1 and "is absent (is the lab deployed?)" in p.stderr
