// validate.js - validates Kubernetes objects against the API schemas that the pinned
// kubernetes-models packages ship (Kubernetes core and apps objects; the Prometheus operator's
// CRDs). Usage: node validate.js FILE.json, FILE holding a JSON array of objects. Prints one
// line per object, "ok KIND/NAME" or "invalid KIND/NAME: reason", and exits 1 when any object is
// invalid or of a kind no package knows. (The schemas check types, formats, enums and required
// fields; like the API server's non-strict mode they let unknown fields through.)
"use strict";
const fs = require("fs");

function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const pkg = group === "monitoring.coreos.com" ? "@kubernetes-models/prometheus-operator/"
                                                : "kubernetes-models/";
  const path = pkg + (group ? `${group}/${version}` : version) + "/" + kind;
  return require(path)[kind];
}

const objects = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
let bad = 0;
for (const obj of objects) {
  const id = `${obj.kind}/${obj.metadata && obj.metadata.name}`;
  let Model;
  try {
    Model = modelFor(obj.apiVersion, obj.kind);
  } catch (e) {
    console.log(`invalid ${id}: no schema for ${obj.apiVersion} ${obj.kind}`);
    bad++;
    continue;
  }
  try {
    new Model(obj).validate();
    console.log(`ok ${id}`);
  } catch (e) {
    console.log(`invalid ${id}: ${String(e.message).split("\n").join(" ")}`);
    bad++;
  }
}
process.exit(bad ? 1 : 0);
