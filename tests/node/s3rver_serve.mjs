// s3rver on a free loopback port for the integration tests (tests/integration/files_test.cpp):
//   node s3rver_serve.mjs <folder> <bucket>
// prints "listening <port>" once it serves (LoopbackScript waits for that line); stops with its
// parent's SIGKILL. Credentials are s3rver's (S3RVER/S3RVER).
import S3rver from "s3rver";

const [directory, bucket] = process.argv.slice(2);
if (!bucket) {
  console.error("usage: node s3rver_serve.mjs <folder> <bucket>");
  process.exit(2);
}
const server = new S3rver({ port: 0, address: "127.0.0.1", directory, silent: true, configureBuckets: [{ name: bucket }] });
const { port } = await server.run();
console.log(`listening ${port}`);
