#!/usr/bin/env python3
"""Writes a dpkg status file that holds only this machine's base system: the Essential and
required packages and what they depend on, as a fresh Debian install has. With it,
`apt-get -s -o Dir::State::status=FILE install ./ptq-studio_*.deb` shows what the package
pulls on a fresh machine, without changing this one.

Usage: minimal_status.py OUT_FILE [/var/lib/dpkg/status]
"""
import sys


def parse(path):
    """Installed packages: name -> (raw block, fields), and virtual name -> providers."""
    packages, providers = {}, {}
    with open(path, encoding="utf-8") as f:
        blocks = [b for b in f.read().split("\n\n") if b.strip()]
    for block in blocks:
        fields = {}
        for line in block.splitlines():
            if line and not line[0].isspace() and ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        if "install ok installed" not in fields.get("Status", ""):
            continue
        name = fields["Package"]
        packages[name] = (block, fields)
        for provided in fields.get("Provides", "").split(","):
            provided = provided.strip().split(" ")[0]
            if provided:
                providers.setdefault(provided, []).append(name)
    return packages, providers


def base_closure(packages, providers):
    """Essential and required packages, closed over Depends and Pre-Depends."""
    keep = {n for n, (_, f) in packages.items()
            if f.get("Essential") == "yes" or f.get("Priority") == "required"}
    todo = list(keep)
    while todo:
        fields = packages[todo.pop()][1]
        for field in ("Pre-Depends", "Depends"):
            for clause in filter(str.strip, fields.get(field, "").split(",")):
                names = [a.strip().split(" ")[0].split(":")[0] for a in clause.split("|")]
                if any(n in keep for n in names):
                    continue
                for n in names:
                    candidates = [n] if n in packages else providers.get(n, [])
                    if candidates:
                        if candidates[0] not in keep:
                            keep.add(candidates[0])
                            todo.append(candidates[0])
                        break
    return keep


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    packages, providers = parse(sys.argv[2] if len(sys.argv) == 3 else "/var/lib/dpkg/status")
    keep = base_closure(packages, providers)
    with open(sys.argv[1], "w", encoding="utf-8") as out:
        out.write("\n\n".join(packages[n][0] for n in sorted(keep)) + "\n")
    print(f"{len(keep)} of {len(packages)} installed packages form the base system")


if __name__ == "__main__":
    main()
