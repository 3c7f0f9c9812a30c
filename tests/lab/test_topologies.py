"""Every lab's topology file deploys under containerlab v0.79 from a fresh clone: it validates
against containerlab's own schema (schema/clab.schema.json, vendored), every bind source is a
file or folder of the tree (containerlab verifies them and makes none), no link uses eth0 and
every node is kind linux. Pure: nothing is deployed."""
import glob
import json
import os

import jsonschema
import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
TREE = os.path.dirname(os.path.dirname(HERE))
TOPOLOGIES = sorted(glob.glob(os.path.join(TREE, "examples", "*", "*.clab.yml")))


def test_every_lab_has_a_topology():
    assert len(TOPOLOGIES) >= 5


@pytest.mark.parametrize("path", TOPOLOGIES, ids=os.path.basename)
def test_topology_meets_containerlab(path):
    with open(os.path.join(HERE, "schema", "clab.schema.json")) as f:
        schema = json.load(f)
    with open(path) as f:
        doc = yaml.safe_load(f)
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in jsonschema.Draft7Validator(schema).iter_errors(doc)]
    assert errors == []
    topo = doc["topology"]
    defaults = topo.get("defaults") or {}
    for name, node in topo["nodes"].items():
        node = node or {}
        assert node.get("kind", defaults.get("kind")) == "linux", name
        assert node.get("image", defaults.get("image")) == "blockd:dev", name
        for bind in list(defaults.get("binds") or []) + list(node.get("binds") or []):
            source = bind.split(":")[0]
            assert "__clab" not in source, f"{name}: {bind}: containerlab does not make lab folders before deploy"
            assert os.path.exists(os.path.join(os.path.dirname(path), source)), f"{name}: {bind}: no such file in the tree"
    for link in topo.get("links") or []:
        assert not any(ep.endswith(":eth0") for ep in link["endpoints"]), link
