"""Tests of the lab runner: containerlab's rules (its schema, bind sources, eth0, kinds), path
translation (pure), then real labs under the netns runtime: BIRD 2 peering with FRR over a
veth pair at MTU 9500, exec lines per node after its links and in parallel across nodes, a
failing exec line logged without failing the deploy, inspect, and destroy leaving no namespace
or process behind. The docker tests (marked `docker`, ctest e2e_lab_runner_docker) do the same
with containers from the lab image blockd:dev. Needs root."""
import importlib.machinery
import importlib.util
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import textwrap
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "clab-netns")
TREE = os.path.dirname(os.path.dirname(HERE))
loader = importlib.machinery.SourceFileLoader("clab_netns", RUNNER)
spec = importlib.util.spec_from_loader("clab_netns", loader)
clab = importlib.util.module_from_spec(spec)
loader.exec_module(clab)


@pytest.fixture
def workdir(monkeypatch):
    # Not pytest's tmp_path: FRR runs as user frr and must reach its files in the lab's folders,
    # and pytest's are 0700.
    path = pathlib.Path(tempfile.mkdtemp(prefix=f"clab-netns-test-{os.getpid()}-"))
    os.chmod(path, 0o755)
    monkeypatch.setenv("CLAB_NETNS_STATE_DIR", str(path / "state"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


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
    # containerlab's schema: an unknown kind, a wrong type, an unknown field, a bad name
    ("name: x\ntopology: {nodes: {a: {kind: ceos}}}", "topology.nodes.a.kind: 'ceos' is not one of"),
    ("name: x\ntopology: {nodes: {a: {exec: ls}}}", "topology.nodes.a.exec: 'ls' is not of type 'array'"),
    ("name: x\ntopology: {nodes: {a: {}}, colour: red}", "'colour' was unexpected"),
    ("name: 'x y'\ntopology: {nodes: {a: {}}}", "name: 'x y' does not match"),
    # a kind containerlab knows but this runner does not run
    ("name: x\ntopology: {nodes: {a: {kind: nokia_srlinux}}}", "clab-netns runs kind linux nodes only"),
    ("name: x\ntopology: {nodes: {a: {}}, links: [{endpoints: ['a:eth1', 'b:eth1']}]}",
     "topology.links[0]: 'b:eth1' names no node"),
    ("name: x\ntopology: {nodes: {a: {}}, links: [{endpoints: ['a:eth1']}]}", "topology.links[0].endpoints"),
    ("name: x\ntopology: {nodes: {a: {}, b: {}}, links: [{endpoints: ['a:eth0', 'b:eth1']}]}",
     "'a:eth0': eth0 is the node's management interface"),
    ("name: x\ntopology: {nodes: {a: {}, b: {}}, links: [{endpoints: ['a:eth1', 'b:eth1']}, {endpoints: ['a:eth1', 'b:eth2']}]}",
     "'a:eth1' is already used"),
    ("name: x\ntopology: {nodes: {a: {binds: ['conf']}}}", "topology.nodes.a.binds: 'conf'"),
])
def test_bad_topology_is_named(workdir, body, message):
    with pytest.raises(clab.LabError) as e:
        clab.Lab(write(workdir / "t.clab.yml", body))
    assert message in str(e.value)


def test_container_paths_become_host_paths(workdir):
    (workdir / "b.yaml").write_text("x")
    (workdir / "shared").mkdir()
    lab = clab.Lab(write(workdir / "t.clab.yml", """\
        name: tr
        topology:
          nodes:
            n:
              binds: [b.yaml:/etc/blockd/blockd.yaml, shared:/srv/shared]
              tmpfs: {/run/blockd: "", /var/lib/blockd: ""}
        """))
    n = lab.nodes["n"]
    state = str(workdir / "state" / "tr")
    assert n.translate("blockd --config /etc/blockd/blockd.yaml") == \
        f"blockd --config {state}/n/binds/etc/blockd/blockd.yaml"
    assert n.translate("datastore: sqlite:///var/lib/blockd/blockd.db") == \
        f"datastore: sqlite://{state}/n/tmpfs/var/lib/blockd/blockd.db"
    assert n.translate("socket: /run/blockd/blockd.sock, x: '>/run/blockd'") == \
        f"socket: {state}/n/tmpfs/run/blockd/blockd.sock, x: '>{state}/n/tmpfs/run/blockd'"
    assert n.translate("ls /srv/shared/x") == f"ls {workdir}/shared/x"  # a bound folder is used in place
    # Only whole path components: neither a longer name nor a path inside another path.
    assert n.translate("/run/blockd2/x /srv/run/blockd") == "/run/blockd2/x /srv/run/blockd"


def test_a_missing_bind_source_fails_before_anything_is_made(workdir):
    # containerlab verifies every bind path first and makes none, __clabNodeDir__ ones included.
    topo = write(workdir / "t.clab.yml", f"""\
        name: mb{os.getpid()}
        topology:
          nodes:
            n: {{binds: [__clabNodeDir__/run:/run/blockd]}}
        """)
    p = cli("deploy", "-t", topo, check=False)
    assert p.returncode == 1
    assert f"{workdir}/clab-mb{os.getpid()}/n/run:/run/blockd: failed to verify bind path" in p.stderr
    assert netns_with(f"clab-mb{os.getpid()}-") == []


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
    """BIRD on r1 and FRR on r2 as containerlab runs them: kind linux, started by exec lines."""
    write(workdir / "bird.conf", BIRD_CONF)
    write(workdir / "frr.conf", FRR_CONF)
    (workdir / "shared").mkdir(exist_ok=True)
    frr_start = os.path.join(TREE, "examples", "spine-leaf", "frr-start.sh")
    return write(workdir / "t.clab.yml", f"""\
        name: {name}
        topology:
          defaults: {{image: blockd:dev, tmpfs: {{/run/bird: "", /var/run/frr: "", /scratch: ""}}}}
          nodes:
            r1:
              binds: [bird.conf:/etc/bird/bird.conf, shared:/shared]
              exec:
                # r2's exec lines run at the same time: it waits for r1's mark, which would
                # never come if the nodes ran one after the other in file order.
                - sh -c 'until [ -e /shared/r2-started ]; do sleep 0.1; done; touch /shared/r1-saw-r2'
                - ip addr add 10.9.0.1/30 dev eth1
                - bird -c /etc/bird/bird.conf -s /run/bird/bird.ctl
            r2:
              binds: [frr.conf:/etc/frr/frr.conf, {frr_start}:/etc/frr/start.sh, shared:/shared]
              env: {{GREETING: hello, WHERE: /scratch}}
              exec:
                - touch /shared/r2-started
                - sh -c 'ip -o link show eth1 > /scratch/eth1'
                - ip addr add 10.9.0.2/30 dev eth1
                - sh /etc/frr/start.sh
                - sh -c 'echo $GREETING > $WHERE/said'
                {extra_exec}
          links:
            - endpoints: ["r1:eth1", "r2:eth1"]
        """)


def frr_route(topo, node, prefix):
    for _ in range(150):  # BGP: Established and the route learned, in FRR's own table
        p = cli("exec", "-t", topo, "--node", node, "--", "vtysh", "--vty_socket", "/var/run/frr", "-c",
                "show ip route bgp json", check=False)
        try:
            route = json.loads(p.stdout or "{}").get(prefix, [])
        except ValueError:
            route = []
        if route:
            return route
        time.sleep(0.2)
    return []


def test_bird_and_frr_peer_and_destroy_leaves_nothing(workdir):
    name = f"ct{os.getpid()}"
    topo = two_routers(workdir, name)
    try:
        cli("deploy", "-t", topo)
        state = workdir / "state" / name
        r2 = state / "r2" / "tmpfs" / "scratch"
        assert (r2 / "said").read_text() == "hello\n"  # env and tmpfs paths in exec
        assert "mtu 9500" in (r2 / "eth1").read_text()  # the node's link existed before its exec
        assert (workdir / "shared" / "r1-saw-r2").exists()  # nodes' exec lines ran in parallel
        route = frr_route(topo, "r2", "10.99.0.0/24")
        assert route and route[0]["nexthops"][0]["ip"] == "10.9.0.1"
        p = cli("exec", "-t", topo, "--node", "r1", "--cmd", "birdc -s /run/bird/bird.ctl show protocols frr")
        assert "Established" in p.stdout
        rows = json.loads(cli("inspect", "-t", topo, "--format", "json").stdout)
        assert {r["name"]: r["addresses"] for r in rows} == {"r1": ["eth1:10.9.0.1/30"], "r2": ["eth1:10.9.0.2/30"]}
        assert all(r["state"] == "running" and r["processes"] >= 1 and r["runtime"] == "netns" for r in rows)
        again = cli("deploy", "-t", topo, check=False)
        assert again.returncode == 1 and "already deployed" in again.stderr
        pids = [int(x) for ns in netns_with(f"clab-{name}-") for x in
                subprocess.run(["ip", "netns", "pids", ns], stdout=subprocess.PIPE, text=True).stdout.split()]
        assert len(pids) >= 3  # bird, zebra, bgpd
    finally:
        cli("destroy", "-t", topo)
    assert netns_with(f"clab-{name}-") == []
    assert not any(os.path.exists(f"/proc/{p}") for p in pids)
    assert not (workdir / "state" / name).exists()


def test_a_failing_exec_line_is_logged_and_the_deploy_goes_on(workdir):
    name = f"cf{os.getpid()}"
    topo = two_routers(workdir, name, extra_exec="- sh -c 'echo broken; exit 3'\n                - touch /scratch/after")
    try:
        p = cli("deploy", "-t", topo, check=False)
        assert p.returncode == 0, p.stderr
        assert "node r2: exec \"sh -c 'echo broken; exit 3'\" exited 3" in p.stderr and "broken" in p.stderr
        state = workdir / "state" / name
        assert (state / "r2" / "tmpfs" / "scratch" / "after").exists()  # the next line still ran
        assert "exit 3" in (state / "r2" / "exec.log").read_text()
    finally:
        cli("destroy", "-t", topo)
    assert netns_with(f"clab-{name}-") == []


def test_exec_on_an_absent_lab_or_node_says_so(workdir):
    topo = two_routers(workdir, f"ca{os.getpid()}")
    p = cli("exec", "-t", topo, "--node", "r3", "--", "true", check=False)
    assert p.returncode == 1 and "--node r3: no such node" in p.stderr
    p = cli("exec", "-t", topo, "--node", "r1", "--", "true", check=False)
    assert p.returncode == 1 and "is absent (is the lab deployed?)" in p.stderr


def host_links():
    out = subprocess.run(["ip", "-o", "link", "show"], stdout=subprocess.PIPE, text=True).stdout
    return sorted(l.split(":")[1].strip().split("@")[0] for l in out.splitlines())


def docker(*args):
    return subprocess.run([clab.DOCKER, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.docker
def test_docker_runtime_runs_the_same_file_and_destroy_leaves_nothing(workdir):
    """Containers from blockd:dev: names, hostnames, links at MTU 9500 with containerlab's
    interface names, binds as mounts, tmpfs, exec lines, BGP between the two, then nothing left."""
    name = f"cd{os.getpid()}"
    topo = two_routers(workdir, name)
    links_before = host_links()
    try:
        p = cli("deploy", "-t", topo, "--runtime", "docker")
        assert "runtime docker" in p.stdout
        assert (workdir / "shared" / "r1-saw-r2").exists()  # a bind is a mount; exec in parallel
        for node in ("r1", "r2"):
            c = f"clab-{name}-{node}"
            assert docker("inspect", "-f", "{{.Config.Hostname}}", c).stdout.split() == [node]
        eth1 = cli("exec", "-t", topo, "--node", "r2", "--", "cat", "/scratch/eth1").stdout
        assert "mtu 9500" in eth1
        said = cli("exec", "-t", topo, "--node", "r2", "--", "cat", "/scratch/said").stdout
        assert said == "hello\n"
        # eth0 is the management interface with the default route, as under containerlab
        assert "default via" in cli("exec", "-t", topo, "--node", "r1", "--", "ip", "route").stdout
        route = frr_route(topo, "r2", "10.99.0.0/24")
        assert route and route[0]["nexthops"][0]["ip"] == "10.9.0.1"
        rows = json.loads(cli("inspect", "-t", topo, "--format", "json").stdout)
        assert {r["name"]: r["addresses"] for r in rows} == {"r1": ["eth1:10.9.0.1/30"], "r2": ["eth1:10.9.0.2/30"]}
        assert all(r["runtime"] == "docker" for r in rows)
    finally:
        cli("destroy", "-t", topo)
    assert docker("ps", "-a", "-q", "--filter", f"name=clab-{name}-").stdout.split() == []
    assert docker("network", "ls", "-q", "--filter", f"name=clab-{name}").stdout.split() == []
    assert host_links() == links_before  # no veth end left on the host
    assert not (workdir / "state" / name).exists()
