"use strict";
// The stack of the backend ETrainer replaces (Express, ioredis, jsonwebtoken on Node's cluster),
// doing the warm access check of GET /api/me/access: see README.md beside this file for what is
// equivalent to Django's check and what is not. Started and stopped by bench/access.py --node.
//
// Environment: PORT, HOST (127.0.0.1), NODE_WORKERS (0: one per core), REDIS_URL,
// JWT_SIGNING_KEY (simplejwt's SIGNING_KEY), CACHE_KEY_PREFIX (etr), ACCESS_TEMPLATE (a real
// /api/me/access body from Django, JSON; its "user" is replaced per request).

const cluster = require("node:cluster");
const os = require("node:os");

const HOST = process.env.HOST || "127.0.0.1";
const PORT = Number(process.env.PORT || 8090);
const WORKERS = Number(process.env.NODE_WORKERS || 0) || os.availableParallelism();

if (cluster.isPrimary) {
  runPrimary();
} else {
  runWorker();
}

function runPrimary() {
  let stopping = false;
  let listening = 0;
  cluster.on("listening", () => {
    listening += 1;
    if (listening === WORKERS) {
      console.log(`ready: ${WORKERS} workers on http://${HOST}:${PORT}`);
    }
  });
  cluster.on("exit", (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers).length === 0) process.exit(0);
      return;
    }
    console.log(`worker ${worker.process.pid} exited (${signal || code}): respawning`);
    cluster.fork();
  });
  const stop = () => {
    if (stopping) return;
    stopping = true;
    const workers = Object.values(cluster.workers);
    if (workers.length === 0) process.exit(0);
    for (const worker of workers) worker.process.kill("SIGTERM");
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  for (let n = 0; n < WORKERS; n += 1) cluster.fork();
}

function runWorker() {
  const express = require("express");
  const Redis = require("ioredis");
  const jwt = require("jsonwebtoken");

  const signingKey = process.env.JWT_SIGNING_KEY;
  if (!signingKey) throw new Error("JWT_SIGNING_KEY is required");
  const prefix = `${process.env.CACHE_KEY_PREFIX || "etr"}:v1:`;
  const template = JSON.parse(process.env.ACCESS_TEMPLATE || "{}");
  const redis = new Redis(process.env.REDIS_URL || "redis://127.0.0.1:6379/0", {
    connectTimeout: 250,
    commandTimeout: 250,
    maxRetriesPerRequest: 1,
  });
  redis.on("error", () => {}); // a dead Redis answers 503 per request, not a crash

  // subscriptions/cache.py: the user's entries, their families' version tokens, the replay
  // marker, in plan_read's order; django-redis stores "<KEY_PREFIX>:<version>:<key>".
  const FAMILIES = ["user", "sub", "ai", "grants"];
  const keysFor = (userId) => [
    ...FAMILIES.map((family) => `${prefix}${family}:${userId}`),
    ...FAMILIES.map((family) => `${prefix}ver:${family}`),
    `${prefix}ver:replayed`,
  ];

  function envelope(res, status, code, message, details = {}) {
    return res.status(status).json({ error: { code, message, details } });
  }

  // A version token is a pickled short str (opcode SHORT_BINUNICODE 0x8c, length, UTF-8); an
  // entry (token, value) is current while it holds the same opcode, length and text.
  function tokenBytes(pickled) {
    const at = pickled.indexOf(0x8c);
    if (at < 0 || at + 2 > pickled.length) return null;
    return pickled.subarray(at, at + 2 + pickled[at + 1]);
  }

  function missing(values) {
    const out = [];
    FAMILIES.forEach((family, n) => {
      const entry = values[n];
      const token = values[FAMILIES.length + n] && tokenBytes(values[FAMILIES.length + n]);
      if (!entry || !token || entry.indexOf(token) < 0) out.push(family);
    });
    if (!values[2 * FAMILIES.length]) out.push("replayed");
    return out;
  }

  const app = express();

  // The bytes of Django's bench view (JsonResponse: json.dumps' ", " and ": " separators).
  const BARE = '{"ok": true}';
  app.get("/bench/bare", (req, res) => {
    res.type("json").send(BARE);
  });

  app.get("/api/me/access", async (req, res) => {
    const header = req.get("authorization") || "";
    if (!header.startsWith("Bearer ")) {
      return envelope(res, 401, "not_authenticated", "Authentication credentials were not provided.");
    }
    let claims;
    try {
      claims = jwt.verify(header.slice(7), signingKey, { algorithms: ["HS256"] });
    } catch {
      return envelope(res, 401, "token_not_valid", "Given token not valid for any token type");
    }
    if (claims.token_type !== "access" || claims.user_id === undefined) {
      return envelope(res, 401, "token_not_valid", "Given token not valid for any token type");
    }
    const userId = String(claims.user_id);
    let values;
    try {
      values = await redis.mgetBuffer(keysFor(userId));
    } catch {
      return envelope(res, 503, "service_unavailable", "The access cache is unavailable.");
    }
    const cold = missing(values);
    if (cold.length) {
      return envelope(res, 503, "service_unavailable", "The access cache is cold.", { cold });
    }
    return res.json({ ...template, user: userId });
  });

  app.use((req, res) => envelope(res, 404, "not_found", "Not found."));

  app.listen(PORT, HOST);
}
