'use strict';
/**
 * The script of one tesseract.js worker thread: tesseract.js's own Node worker script, plus the
 * path of this OS thread under /proc in every message it sends, so the pool can read how much CPU
 * time this thread has used (the page time bound counts CPU time, not wall time: a page slowed by
 * a loaded machine is not a stuck page). tesseract.js's message handler reads only its own fields.
 * Without /proc (not Linux) the path is null and the pool bounds pages by wall time.
 */
const fs = require('node:fs');
const { parentPort } = require('node:worker_threads');

let task = null;
try {
  // "<pid>/task/<tid>": /proc/thread-self is this thread's own entry (Linux 3.17 and later)
  task = fs.readlinkSync('/proc/thread-self');
} catch {
  task = null;
}

const post = parentPort.postMessage.bind(parentPort);
parentPort.postMessage = (message, transfer) =>
  post(message !== null && typeof message === 'object' ? { ...message, arkivaThreadTask: task } : message, transfer);

require('tesseract.js/src/worker-script/node/index.js');
