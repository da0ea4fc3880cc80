// The AWS SDK's own SigV4 signer (@smithy/signature-v4) presigning a URL, to check Parley's
// presigning against (s3rver does not verify V4 signatures):
//   node sigv4_presign.mjs '<json>'
// with {method, url, headers: {name: value}, region, accessKey, secretKey, date (ISO 8601),
// expiresIn (s)}; url carries the extra query parameters (response-content-type, ...).
// Prints the presigned URL's canonical query (sorted, as signed) with X-Amz-Signature.
import { createHash, createHmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";

class Sha256 {
  constructor(secret) {
    this.h = secret ? createHmac("sha256", Buffer.from(secret)) : createHash("sha256");
  }
  update(data) {
    this.h.update(data);
  }
  async digest() {
    return new Uint8Array(this.h.digest());
  }
}

const input = JSON.parse(process.argv[2]);
const url = new URL(input.url);
const query = {};
for (const [k, v] of url.searchParams) query[k] = v;
const signer = new SignatureV4({
  service: "s3",
  region: input.region,
  credentials: { accessKeyId: input.accessKey, secretAccessKey: input.secretKey },
  sha256: Sha256,
  uriEscapePath: false, // S3 signs the path as sent (encoded once)
});
const request = {
  method: input.method,
  protocol: url.protocol,
  hostname: url.hostname,
  port: url.port ? Number(url.port) : undefined,
  path: url.pathname,
  query,
  headers: { host: url.host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD", ...input.headers },
};
const keep = new Set(["x-amz-content-sha256"]); // the payload hash, neither hoisted nor signed
const signed = await signer.presign(request, {
  signingDate: new Date(input.date),
  expiresIn: input.expiresIn,
  unhoistableHeaders: keep,
  unsignableHeaders: keep,
});
const pairs = Object.entries(signed.query).map(
  ([k, v]) => [encodeRfc3986(k), encodeRfc3986(v)],
);
pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1));
console.log(pairs.map(([k, v]) => `${k}=${v}`).join("&"));

function encodeRfc3986(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}
