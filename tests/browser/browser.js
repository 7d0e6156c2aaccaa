'use strict';
/* browser.js - what the browser tests share: their command-line options,
 * playwright-core and Chromium (a missing one ends the test as skipped, exit
 * 77), and launching headless Chromium with the project's flags. */
const { spawn } = require('node:child_process');
const fs = require('node:fs');

const CHROMIUM = process.env.WSC_CHROMIUM || '/usr/bin/chromium';

/* The value after `name` on the command line, or dflt. */
function argValue(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

/* playwright-core, or exit 77 (skipped) when it or Chromium is missing;
 * who names the test in the message. */
function requirePlaywright(who) {
  let playwright;
  try {
    playwright = require('playwright-core');
  } catch (e) {
    console.error(`${who}: playwright-core is not installed (scripts/setup runs npm ci in tests/browser)`);
    process.exit(77);
  }
  if (!fs.existsSync(CHROMIUM)) {
    console.error(`${who}: no Chromium at ${CHROMIUM} (scripts/setup installs Debian's chromium)`);
    process.exit(77);
  }
  return playwright;
}

/* Headless Chromium with the flags the project's tests use everywhere. */
function launch(playwright) {
  return playwright.chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/* ---- child processes (servers, terminal clients) --------------------------- */

const children = new Set();
process.on('exit', () => { for (const c of children) if (c.exitCode === null) c.kill('SIGKILL'); });

/* Starts cmd; resolves with the child once a stdout line matches re (the
 * match in child.match), rejects if it exits first or stepMs pass. Every
 * stdout line is kept in child.lines; stderr is passed through and kept in
 * child.stderrText. stdin: 'ignore' or 'pipe'. what names it in errors. */
function startChild(cmd, args, re, what, stepMs, stdin = 'ignore') {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [stdin, 'pipe', 'pipe'] });
    children.add(child);
    child.lines = [];
    child.waiters = [];
    child.stderrText = '';
    let buf = '';
    let started = false;
    const timer = setTimeout(() => { if (!started) reject(new Error(`${what}: no start line in ${stepMs} ms`)); }, stepMs);
    child.stderr.on('data', (d) => { child.stderrText += d.toString(); process.stderr.write(d); });
    child.stdout.on('data', (d) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        child.lines.push(line);
        child.waiters = child.waiters.filter((w) => !w(line));
        const m = !started && line.match(re);
        if (m) { started = true; clearTimeout(timer); child.match = m; resolve(child); }
      }
    });
    child.on('exit', (code, sig) => {
      children.delete(child);
      if (!started) {
        clearTimeout(timer);
        reject(new Error(`${what} exited (${code ?? sig}) before starting: ${child.stderrText.trim()}`));
      }
    });
  });
}

/* Resolves with the first line of child, from line index `from` on (already
 * printed or to come), for which test(line) holds; rejects after stepMs.
 * test may be a string: the line contains it. */
function waitLine(child, test, stepMs, from = 0) {
  const ok = typeof test === 'string' ? (l) => l.includes(test) : test;
  const seen = child.lines.slice(from).find(ok);
  if (seen !== undefined) return Promise.resolve(seen);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no such line (${test}); got:\n${child.lines.slice(from).join('\n')}`)), stepMs);
    child.waiters.push((line) => {
      if (!ok(line)) return false;
      clearTimeout(timer);
      resolve(line);
      return true;
    });
  });
}

module.exports = { CHROMIUM, argValue, requirePlaywright, launch, startChild, waitLine };
