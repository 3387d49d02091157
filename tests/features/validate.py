#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# validate.py [FILE]: checks a features document (FILE, or stdin) against
# the runtime-spec features schema kept beside this script. Exit 0 when
# valid; otherwise every violation on stderr, exit 1.
import json
import os
import sys
import warnings

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = ("features-schema.json", "features-linux.json", "defs.json", "defs-linux.json")


def load(name):
    with open(os.path.join(HERE, name)) as f:
        return json.load(f)


def validator(schemas):
    root = schemas["features-schema.json"]
    base = "file://" + HERE + "/"
    try:
        # jsonschema >= 4.18: the referencing library.
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT4
        registry = Registry().with_resources(
            (base + name, Resource.from_contents(s, default_specification=DRAFT4))
            for name, s in schemas.items())
        root = dict(root, id=base + "features-schema.json")
        return jsonschema.Draft4Validator(root, registry=registry)
    except ImportError:
        store = {base + name: s for name, s in schemas.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            resolver = jsonschema.RefResolver(base + "features-schema.json", root, store=store)
        return jsonschema.Draft4Validator(root, resolver=resolver)


def main():
    schemas = {name: load(name) for name in FILES}
    doc = json.load(open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin)
    errors = sorted(validator(schemas).iter_errors(doc), key=lambda e: list(e.path))
    for e in errors:
        print("%s: %s" % ("/".join(str(p) for p in e.path) or "(root)", e.message), file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
