"""Offline set-up for pySigma and sigma-cli (docs/sigma.md, "Validating offline").

pySigma's `attacktag` and SigmaHQ's technique/tactic validators read MITRE ATT&CK Enterprise
data, which pySigma normally downloads from GitHub and keeps in a diskcache under
~/.cache/pysigma/mitre_attack. `prime_attack_cache(home)` builds a STIX bundle of the
Enterprise tactics and techniques from the tables in ../shared/data/attack/mitre-cti-extract,
loads it through pySigma's own loader (`mitre_attack.set_url(<file>)`) with HOME=home, and so
leaves a filled cache behind: `sigma check` run with the same HOME never goes to the network.

The SigmaHQ validators read `validator_json/sigmahq_taxonomy.json` from the working
directory; `sigma_workdir(dir)` puts the shared copy there.
"""
import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import SHARED

ATTACK = SHARED / "data" / "attack" / "mitre-cti-extract"
CONFORMANCE = SHARED / "conformance" / "sigma"
VENV_BIN = Path(sys.executable).parent


def attack_bundle(path: Path):
    """Writes a STIX 2.1 bundle of ATT&CK Enterprise (tactics and techniques) to path."""
    tactics = list(csv.DictReader(open(next(ATTACK.glob("*-tactics.csv")))))
    techniques = list(csv.DictReader(open(next(ATTACK.glob("*-techniques.csv")))))
    version = next(ATTACK.glob("*-techniques.csv")).name.split("-v")[1].split("-")[0]
    objects = [{"type": "x-mitre-collection", "id": "x-mitre-collection--1f5f1533-f617-4ca8-9ab4-6a02367fa019",
                "spec_version": "2.1", "name": "Enterprise ATT&CK", "x_mitre_version": version}]
    for t in tactics:
        objects.append({"type": "x-mitre-tactic", "id": t["stix_id"], "spec_version": "2.1",
                        "name": t["name"], "x_mitre_shortname": t["shortname"],
                        "x_mitre_deprecated": t["deprecated"] == "true",
                        "external_references": [{"source_name": "mitre-attack",
                                                 "external_id": t["tactic_id"], "url": t["url"]}]})
    for t in techniques:
        objects.append({"type": "attack-pattern", "id": t["stix_id"], "spec_version": "2.1",
                        "name": t["name"], "revoked": t["revoked"] == "true",
                        "x_mitre_deprecated": t["deprecated"] == "true",
                        "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": p}
                                              for p in t["tactics"].split(";") if p],
                        "external_references": [{"source_name": "mitre-attack",
                                                 "external_id": t["technique_id"], "url": t["url"]}]})
    path.write_text(json.dumps({"type": "bundle", "id": "bundle--0b0f6f4e-5c4a-4c1e-9d38-5b1f7e3c2a10",
                                "objects": objects}))
    return path


def prime_attack_cache(home: Path):
    """Fills pySigma's ATT&CK cache under home/.cache from the local tables."""
    bundle = attack_bundle(home / "enterprise-attack.json")
    code = ("from sigma.data import mitre_attack as m; import sys; m.set_url(sys.argv[1]); "
            "print(len(m.mitre_attack_techniques), m.mitre_attack_version)")
    out = subprocess.run([sys.executable, "-c", code, str(bundle)], env=offline_env(home),
                         capture_output=True, text=True, check=True).stdout.split()
    assert int(out[0]) > 600, out
    return out


def offline_env(home: Path):
    env = dict(os.environ, HOME=str(home))
    # Any attempt to reach the network fails at once instead of waiting for a timeout.
    env["http_proxy"] = env["https_proxy"] = env["HTTP_PROXY"] = env["HTTPS_PROXY"] = "http://127.0.0.1:9"
    env["no_proxy"] = env["NO_PROXY"] = ""
    return env


def sigma_workdir(d: Path):
    """d with validator_json/sigmahq_taxonomy.json, for the SigmaHQ validators."""
    (d / "validator_json").mkdir(parents=True, exist_ok=True)
    shutil.copy(CONFORMANCE / "sigmahq_taxonomy.json", d / "validator_json" / "sigmahq_taxonomy.json")
    return d


def sigma(home: Path, workdir: Path, *args):
    """Runs sigma-cli offline; returns the CompletedProcess."""
    return subprocess.run([str(VENV_BIN / "sigma"), *map(str, args)], cwd=workdir, env=offline_env(home),
                          capture_output=True, text=True, timeout=600)
