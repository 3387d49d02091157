#!/bin/bash
# Build a minimal single-layer OCI image layout tarball from a rootfs tarball,
# for `ctr image import` (and `podman load`).
#
#   tests/compat/make-oci-image.sh ROOTFS.tar OUT.tar [IMAGE_REF]
#
# The layout: oci-layout, index.json (with the ref name annotation),
# blobs/sha256/{layer.tar.gz, config.json, manifest.json}.
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: $0 ROOTFS.tar OUT.tar [IMAGE_REF]" >&2; exit 1; }
rootfs_tar=$1
out=$2
ref=${3:-docker.io/library/runvm-busybox:test}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
blobs=$work/blobs/sha256
mkdir -p "$blobs"

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

# Layer: the rootfs tar compressed. diff_id is the digest of the uncompressed tar.
gzip -n -c "$rootfs_tar" > "$work/layer.tar.gz"
diff_id=$(sha "$rootfs_tar")
layer_digest=$(sha "$work/layer.tar.gz")
layer_size=$(size "$work/layer.tar.gz")
mv "$work/layer.tar.gz" "$blobs/$layer_digest"

jq -cn --arg diff "sha256:$diff_id" '{
	architecture: "amd64",
	os: "linux",
	config: {
		Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
		Cmd: ["sh"],
		WorkingDir: "/"
	},
	rootfs: { type: "layers", diff_ids: [$diff] },
	history: [ { created_by: "runvm tests/make-bundle.sh" } ]
}' > "$work/config.json"
config_digest=$(sha "$work/config.json")
config_size=$(size "$work/config.json")
mv "$work/config.json" "$blobs/$config_digest"

jq -cn --arg cd "sha256:$config_digest" --argjson cs "$config_size" \
	--arg ld "sha256:$layer_digest" --argjson ls "$layer_size" '{
	schemaVersion: 2,
	mediaType: "application/vnd.oci.image.manifest.v1+json",
	config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs },
	layers: [ { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $ld, size: $ls } ]
}' > "$work/manifest.json"
manifest_digest=$(sha "$work/manifest.json")
manifest_size=$(size "$work/manifest.json")
mv "$work/manifest.json" "$blobs/$manifest_digest"

jq -cn --arg md "sha256:$manifest_digest" --argjson ms "$manifest_size" --arg ref "$ref" '{
	schemaVersion: 2,
	manifests: [ {
		mediaType: "application/vnd.oci.image.manifest.v1+json",
		digest: $md, size: $ms,
		platform: { architecture: "amd64", os: "linux" },
		annotations: { "org.opencontainers.image.ref.name": $ref, "io.containerd.image.name": $ref }
	} ]
}' > "$work/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' > "$work/oci-layout"

tar --numeric-owner -C "$work" -cf "$out.tmp" oci-layout index.json blobs
mv "$out.tmp" "$out"
