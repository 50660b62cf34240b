// One-shot replica-set initiation for docker-compose (the `mongo-init` service, run by mongosh
// against mongo1). Idempotent: a second run finds the set initiated and only waits for a primary.
const members = [
  { _id: 0, host: "mongo1:27017", priority: 2 },
  { _id: 1, host: "mongo2:27017", priority: 1 },
  { _id: 2, host: "mongo3:27017", priority: 1 },
];

function initiated() {
  try {
    return rs.status().ok === 1;
  } catch (error) {
    if (error.codeName === "NotYetInitialized") return false;
    throw error;
  }
}

if (initiated()) {
  print("replica set rs0 already initiated");
} else {
  rs.initiate({ _id: "rs0", members });
  print("replica set rs0 initiated");
}

const deadline = Date.now() + 120 * 1000;
while (!rs.status().members.some((member) => member.stateStr === "PRIMARY")) {
  if (Date.now() > deadline) throw new Error("no PRIMARY elected within 120 s");
  sleep(1000);
}
print("replica set rs0 has a primary");
