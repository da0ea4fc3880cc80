// The AWS SDK's own SigV4 signer (@smithy/signature-v4) signing a request as Parley sent it, to
// check the Authorization header libcurl made (s3rver does not verify V4 signatures):
//   node sigv4_sign.mjs '<json>'
// with {method, url, headers: {name: value} (the signed ones, x-amz-date and
// x-amz-content-sha256 among them), region, accessKey, secretKey}. Prints the Authorization value.
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
const date = input.headers["x-amz-date"];
const signer = new SignatureV4({
  service: "s3",
  region: input.region,
  credentials: { accessKeyId: input.accessKey, secretAccessKey: input.secretKey },
  sha256: Sha256,
  uriEscapePath: false, // S3 signs the path as sent (encoded once)
});
const signed = await signer.sign(
  {
    method: input.method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname,
    query,
    headers: input.headers,
  },
  {
    signingDate: new Date(
      `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
    ),
  },
);
console.log(signed.headers["authorization"]);
