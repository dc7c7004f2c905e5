// Drives Flood in headless Chromium: waits for the torrent list to show
// every name given, screenshots it, selects the row of the first name and
// presses Flood's "Stop Torrent" button, then screenshots again.
// Usage: node flood_pause.js URL SHOT_PREFIX NAME...
// Prints "shown" once the names are listed and "clicked" after the button.
const puppeteer = require('puppeteer-core');

async function main() {
  const [url, shot, ...names] = process.argv.slice(2);
  const browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage'],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({width: 1280, height: 800});
    await page.goto(url, {waitUntil: 'networkidle2', timeout: 30000});
    await page.waitForFunction(
      (ns) => ns.every((n) => document.body && document.body.innerText.includes(n)), {timeout: 30000}, names);
    await page.screenshot({path: shot + '-list.png'});
    console.log('shown');
    const [row] = await page.$$(`xpath/.//*[text()="${names[0]}"]`);
    if (!row) throw new Error('no element holds ' + names[0]);
    await row.click();
    const button = await page.waitForSelector(
      '[aria-label="Stop Torrent"], [title="Stop Torrent"], .actionbar__button--stop-torrent, [class*="stop-torrent"]',
      {timeout: 10000});
    await button.click();
    console.log('clicked');
    await new Promise((r) => setTimeout(r, 3000));
    await page.screenshot({path: shot + '-stopped.png'});
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error('flood_pause: ' + e.message);
  process.exit(1);
});
