// Checks an access-log entry's inclusion proof in the browser (RFC 9162 §2.1.3.2): the leaf
// hash walked up the audit path must give the root of the signed checkpoint the proof names.
// The page then offers the proof for saving, so anyone can check it again with other tools.

const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

async function sha256(...parts) {
  const data = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { data.set(p, at); at += p.length; }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}

const node = (left, right) => sha256(Uint8Array.of(1), left, right);

/** The leaf hash of an entry: SHA-256(0x00 ‖ RFC 8785 JSON of its ten members). */
async function leafOf(entry) {
  const keys = ["action", "actor", "at", "count", "id", "outcome", "purpose", "recipient_id",
    "request_id", "subject_id"];
  const json = `{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(entry[k] ?? null)}`).join(",")}}`;
  return sha256(Uint8Array.of(0), new TextEncoder().encode(json));
}

/** The tree size and root a checkpoint note states (its second and third lines). */
function checkpointOf(note) {
  const lines = note.split("\n");
  return { size: Number(lines[1]), root: bytes(lines[2] || "") };
}

const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Whether `proof` shows its entry in its checkpoint's tree; `{ok, size}`. */
export async function verifyInclusion(proof) {
  const { size, root } = checkpointOf(proof.checkpoint || "");
  if (!Number.isSafeInteger(size) || size !== proof.tree_size) return { ok: false, size };
  let r = proof.leaf_hash ? bytes(proof.leaf_hash) : await leafOf(proof.entry);
  let fn = proof.leaf_index;
  let sn = size - 1;
  if (!(fn <= sn)) return { ok: false, size };
  for (const p of proof.hashes.map(bytes)) {
    if (sn === 0) return { ok: false, size };
    if (fn % 2 === 1 || fn === sn) {
      r = await node(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      }
    } else {
      r = await node(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return { ok: sn === 0 && equal(r, root), size };
}
