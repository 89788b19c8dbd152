// Drives Debian's chromium (headless) through puppeteer-core: opens the test page, lets the
// replay record three segments (flushed one by one), clicks the button whose handler throws,
// then leaves the page so the SDK sends what it holds. Prints {"replayId": …} on success.
const puppeteer = require("puppeteer-core");

async function main() {
  const [url, chromium] = process.argv.slice(2);
  const browser = await puppeteer.launch({
    executablePath: chromium, headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check"],
  });
  try {
    const page = await browser.newPage();
    page.on("pageerror", () => {}); // the click handler's error is the point of the test
    await page.goto(url, { waitUntil: "load" });
    await page.waitForFunction(() => document.getElementById("status").textContent === "ready");
    for (let i = 1; i <= 3; i++) {
      await page.evaluate((n) => { document.getElementById("title").textContent = `Shop ${n}`; }, i);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await page.evaluate(() => window.Sentry.getReplay().flush());
    }
    await page.click("#buy");
    await new Promise((resolve) => setTimeout(resolve, 500));
    const replayId = await page.evaluate(() => window.Sentry.getReplay().getReplayId());
    await page.evaluate(() => window.Sentry.getReplay().flush());
    await page.goto("about:blank", { waitUntil: "load" }); // page hide: web vitals and the pageload span are sent
    await new Promise((resolve) => setTimeout(resolve, 1000));
    process.stdout.write(JSON.stringify({ replayId }) + "\n");
  } finally {
    await browser.close();
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
