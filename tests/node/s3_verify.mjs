// An S3 client independent of Parley's (the AWS SDK) reading what Parley stored:
//   node s3_verify.mjs <endpoint> <bucket> <key>
// prints one JSON line: {"size", "sha256", "contentType", "etag"} or
// {"missing": true}. The SHA-256 of the whole body shows a multipart upload's parts were assembled
// in order. Credentials and region are s3rver's (S3RVER/S3RVER, us-east-1).
import { createHash } from "node:crypto";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";

const [endpoint, bucket, key] = process.argv.slice(2);
if (!key) {
  console.error("usage: node s3_verify.mjs <endpoint> <bucket> <key>");
  process.exit(2);
}
const client = new S3Client({
  endpoint,
  region: "us-east-1",
  forcePathStyle: true,
  credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
});

try {
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of got.Body) {
    hash.update(chunk);
    size += chunk.length;
  }
  console.log(
    JSON.stringify({ size, sha256: hash.digest("hex"), contentType: got.ContentType ?? "", etag: got.ETag ?? "" }),
  );
} catch (e) {
  if (e.name !== "NoSuchKey") throw e;
  console.log(JSON.stringify({ missing: true }));
}
