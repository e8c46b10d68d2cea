/* veedor · the witness's app. Offline first: photos and reports wait in an IndexedDB queue on
   the phone until a connection appears, then go out one by one; a photo sent twice (a dropped
   connection) is one photo on the server (it is known by its SHA-256). The phone keeps only the
   invite code, the coordinator's location policy (yes or no) and the queue; "Clear this phone"
   deletes them all. Photos are cleaned of the camera's data (EXIF: time, model, position) and
   scaled down to what reading needs before they are queued; the QR is read here, with zxing-cpp
   compiled to WebAssembly, only to show the witness what the sheet says. */
(() => {
  'use strict';
  const S = JSON.parse(document.getElementById('strings').textContent);
  const $ = (id) => document.getElementById(id);
  const say = (text, v) => text.replace(/%\((\w+)\)s/g, (_, key) => String(v[key]));
  const count = (key, n) => say(S[key][n === 1 ? 0 : 1], { n });
  const API = '/api/field/v1';
  const DB = 'veedor-field';
  const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

  // -- storage: one IndexedDB database, two stores ------------------------------------------
  function openDb() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB, 1);
      request.onupgradeneeded = () => {
        request.result.createObjectStore('kv');
        request.result.createObjectStore('queue', { keyPath: 'id', autoIncrement: true });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  let cleared = false; // after "clear this phone", nothing is read (reading would create it again)
  async function tx(store, mode, work) {
    const db = await openDb();
    return new Promise((resolve, reject) => {
      const t = db.transaction(store, mode);
      const request = work(t.objectStore(store));
      t.oncomplete = () => { db.close(); resolve(request ? request.result : undefined); };
      t.onerror = t.onabort = () => { db.close(); reject(t.error); };
    });
  }
  const kvGet = (key) => (cleared ? Promise.resolve(undefined) : tx('kv', 'readonly', (s) => s.get(key)));
  const kvSet = (key, value) => tx('kv', 'readwrite', (s) => s.put(value, key));
  const queued = () => (cleared ? Promise.resolve([]) : tx('queue', 'readonly', (s) => s.getAll()));
  const queuedCount = () => (cleared ? Promise.resolve(0) : tx('queue', 'readonly', (s) => s.count()));
  const enqueue = (item) => tx('queue', 'readwrite', (s) => s.add(item));
  const dequeue = (id) => tx('queue', 'readwrite', (s) => s.delete(id));

  // -- the invite code --------------------------------------------------------------------------
  function normalize(text) {
    const cleaned = text.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
    if (cleaned.length !== 20 || [...cleaned].some((c) => !ALPHABET.includes(c))) return null;
    return cleaned.match(/.{5}/g).join('-');
  }

  // -- photos: clean and scale on the phone ------------------------------------------------------
  function jpegEnd(b) {
    // Where a JPEG's image ends (past its EOI marker): bytes after it (a motion photo's video,
    // with its own metadata) are not sent. null when it ends first (truncated).
    let i = 2;
    const n = b.length;
    while (i + 2 <= n) {
      if (b[i] !== 0xff) return null;
      const marker = b[i + 1];
      if (marker === 0xd9) return i + 2;
      if (marker === 0xff) { i += 1; continue; }
      if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { i += 2; continue; }
      if (i + 4 > n) return null;
      i += 2 + ((b[i + 2] << 8) | b[i + 3]);
      if (marker === 0xda) {
        for (;;) {
          let j = i;
          while (j < n && b[j] !== 0xff) j += 1;
          if (j + 1 >= n) return null;
          const next = b[j + 1];
          if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) i = j + 2;
          else if (next === 0xff) i = j + 1;
          else { i = j; break; }
        }
      }
    }
    return null;
  }
  function jpegOrientation(b) {
    // The EXIF orientation tag (1: upright), read without trusting any length past the buffer.
    let i = 2;
    while (i + 4 <= b.length && b[i] === 0xff) {
      const marker = b[i + 1];
      const length = (b[i + 2] << 8) | b[i + 3];
      if (marker === 0xda) break;
      if (marker === 0xe1 && b[i + 4] === 0x45 && b[i + 5] === 0x78 && b[i + 6] === 0x69 && b[i + 7] === 0x66) {
        const t = i + 10;
        const little = b[t] === 0x49;
        const u16 = (p) => (little ? b[p] | (b[p + 1] << 8) : (b[p] << 8) | b[p + 1]);
        const u32 = (p) => (little ? (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16)) + b[p + 3] * 16777216
          : b[p] * 16777216 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]));
        const ifd = t + u32(t + 4);
        if (ifd + 2 > b.length) return 1;
        const entries = u16(ifd);
        for (let k = 0; k < entries; k += 1) {
          const e = ifd + 2 + k * 12;
          if (e + 12 > b.length) return 1;
          if (u16(e) === 0x0112) return u16(e + 8);
        }
        return 1;
      }
      i += 2 + length;
    }
    return 1;
  }
  function stripJpeg(b) {
    // The same pixels, without APP1..APP15 (EXIF, XMP, ICC, IPTC...) and comments: APP0 (JFIF)
    // and the image's own segments are kept, and nothing after its end.
    const end = jpegEnd(b);
    if (end === null) return null;
    const parts = [b.subarray(0, 2)];
    let i = 2;
    while (i + 4 <= end) {
      const marker = b[i + 1];
      if (marker === 0xda) { parts.push(b.subarray(i, end)); return new Blob(parts, { type: 'image/jpeg' }); }
      const length = (b[i + 2] << 8) | b[i + 3];
      const drop = (marker >= 0xe1 && marker <= 0xef) || marker === 0xfe;
      if (!drop) parts.push(b.subarray(i, i + 2 + length));
      i += 2 + length;
    }
    return null;
  }
  async function prepare(file, maxPixels) {
    // What will be sent: a JPEG small enough for the phone's signal and big enough to read.
    // A JPEG already within the size, upright, is sent with its pixels untouched (only its
    // metadata removed); anything else is drawn again, scaled, and encoded anew (which keeps no
    // metadata at all).
    const bytes = new Uint8Array(await file.arrayBuffer());
    // Upright as the camera meant it (older Safari takes no options, and applies it anyway).
    const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' }).catch(() => createImageBitmap(file));
    const w = bitmap.width;
    const h = bitmap.height;
    const jpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
    if (jpeg && w * h <= maxPixels && jpegOrientation(bytes) === 1) {
      const clean = stripJpeg(bytes);
      if (clean) { bitmap.close(); return { blob: clean, w, h, original: bytes.length }; }
    }
    const scale = Math.min(1, Math.sqrt(maxPixels / (w * h)));
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(w * scale));
    canvas.height = Math.max(1, Math.round(h * scale));
    canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.9));
    return { blob, w: canvas.width, h: canvas.height, original: bytes.length };
  }

  // -- the QR, read here --------------------------------------------------------------------------
  let zxingReady = false;
  function zxing() {
    if (!window.ZXingWASM) return null;
    if (!zxingReady) {
      window.ZXingWASM.prepareZXingModule({
        overrides: {
          locateFile: (path, prefix) => (path.endsWith('.wasm') ? `/static/field/vendor/zxing-wasm/${path}` : prefix + path),
        },
      });
      zxingReady = true;
    }
    return window.ZXingWASM;
  }
  async function readQr(blob) {
    const lib = zxing();
    if (!lib) return [];
    try {
      const found = await lib.readBarcodes(blob, { formats: ['QRCode'], tryHarder: true, maxNumberOfSymbols: 4 });
      return found.filter((r) => r.isValid && r.text).map((r) => r.text);
    } catch (error) {
      return [];
    }
  }
  function parsePayload(text, spec) {
    // The definition's grammar ("separated-fields"), as the server's parser reads it; only to
    // show the witness: the server reads the photo again and decides.
    if (!spec || spec.parser !== 'separated-fields' || text.length > (spec.max_length || 4096)) return null;
    const parts = text.trim().split(spec.separator);
    if (parts.length !== spec.fields.length) return null;
    const values = {};
    spec.fields.forEach((name, k) => { values[name] = parts[k]; });
    const pattern = new RegExp(spec.acta_id_pattern.replace(/\(\?P</g, '(?<'));
    const id = pattern.exec((values.acta_id || '').trim());
    if (!id || !id.groups) return null;
    const votes = (values.votes || '').split(spec.count_separator).map((t) => (/^\d+$/.test(t.trim()) ? Number(t) : NaN));
    const nulos = /^\d+$/.test((values.nulos || '').trim()) ? Number(values.nulos) : NaN;
    if (votes.some(Number.isNaN) || Number.isNaN(nulos)) return null;
    return { centre: id.groups.centre, mesa: Number(id.groups.mesa), votes, nulos };
  }

  // -- state and page ----------------------------------------------------------------------------
  let config = null;
  let me = null;
  let sentHere = 0; // this session only: the phone keeps no list of what it sent
  let pending = null; // the photo being checked before it is queued

  function show(text, tone) {
    const box = $('msg');
    box.textContent = text || '';
    box.className = `msg${tone ? ` ${tone}` : ''}`;
  }
  function setNet(online) {
    const net = $('net');
    net.hidden = false;
    net.textContent = online ? S.online : S.offline_short;
    net.className = online ? 'net' : 'net off';
    $('net-hint').hidden = online;
  }
  async function render() {
    const code = await kvGet('code');
    $('plain').hidden = true;
    $('enrol').hidden = Boolean(code);
    $('main').hidden = !code;
    if (!code) return;
    $('who').textContent = me ? say(S.who, { pseudonym: me.pseudonym, scope: me.scope.join(', ') }) : S.who_unchecked;
    const waiting = await queuedCount();
    $('queue-line').textContent = `${count('waiting', waiting)} · ${count('sent_count', sentHere)}`;
    const centre = $('inc-centre');
    if (me && me.scope.length === 1 && !centre.value && config && me.scope[0].length === config.centre_digits) {
      centre.value = me.scope[0];
    }
  }
  async function loadConfig() {
    try {
      const answer = await fetch(`${API}/config`, { credentials: 'omit' });
      if (answer.ok) { config = await answer.json(); await kvSet('config', config); }
    } catch (error) { /* offline: the kept copy */ }
    if (!config) config = (await kvGet('config')) || null;
    const select = $('inc-kind');
    select.textContent = '';
    for (const kind of (config && config.incident_kinds) || []) {
      const option = document.createElement('option');
      option.value = kind.code;
      option.textContent = kind.label;
      select.append(option);
    }
    $('incident-box').hidden = !(config && config.incident_kinds.length);
  }
  async function checkCode(code) {
    // 'ok', 'invalid', or 'offline' (kept, checked later)
    try {
      const answer = await fetch(`${API}/me`, { headers: { Authorization: `Bearer ${code}` }, cache: 'no-store', credentials: 'omit' });
      setNet(true);
      if (answer.status === 401) return 'invalid';
      if (!answer.ok) return 'offline';
      me = await answer.json();
      await kvSet('send_location', Boolean(me.send_location));
      return 'ok';
    } catch (error) {
      setNet(false);
      return 'offline';
    }
  }

  // -- sending ---------------------------------------------------------------------------------
  let syncing = false;
  function formOf(item) {
    const form = new FormData();
    for (const [key, value] of Object.entries(item.fields)) if (value !== null && value !== undefined) form.append(key, String(value));
    if (item.data) form.append('file', new Blob([item.data], { type: 'image/jpeg' }), 'photo.jpg');
    return form;
  }
  async function sync() {
    if (syncing) return;
    syncing = true;
    try {
      const code = await kvGet('code');
      if (!code) return;
      for (const item of await queued()) {
        let answer;
        try {
          answer = await fetch(`${API}/${item.kind === 'incident' ? 'incidents' : 'uploads'}`, {
            method: 'POST', headers: { Authorization: `Bearer ${code}` }, body: formOf(item), cache: 'no-store', credentials: 'omit',
          });
        } catch (error) {
          setNet(false); // no connection: it waits, and goes out with the next
          break;
        }
        setNet(true);
        if (answer.status === 200 || answer.status === 201) {
          await dequeue(item.id);
          sentHere += 1;
          show(S.sent, 'good');
        } else if (answer.status === 401) { show(S.invalid_code, 'bad'); break; }
        else if (answer.status === 429) { show(S.limit, 'bad'); break; }
        else if (answer.status >= 500) break;
        else {
          // Refused for good (not a photo, too large...): sending it again would change nothing.
          const body = await answer.json().catch(() => ({}));
          await dequeue(item.id);
          show(say(S.refused, { why: body.message || answer.status }), 'bad');
        }
        await render();
      }
    } finally {
      syncing = false;
      await render();
    }
  }
  function position() {
    return new Promise((resolve) => {
      if (!navigator.geolocation) { resolve(null); return; }
      navigator.geolocation.getCurrentPosition(
        (p) => resolve({ lat: p.coords.latitude, lon: p.coords.longitude, accuracy: p.coords.accuracy }),
        () => resolve(null), { timeout: 10000, maximumAge: 60000 },
      );
    });
  }

  // -- the acta ---------------------------------------------------------------------------------
  async function onPhoto(event) {
    const file = event.target.files && event.target.files[0];
    event.target.value = '';
    if (!file) return;
    show(S.preparing);
    let prepared;
    try {
      prepared = await prepare(file, (config && config.max_pixels) || 12600000);
    } catch (error) {
      show(S.photo_failed, 'bad');
      return;
    }
    const texts = await readQr(prepared.blob);
    const acta = texts.map((t) => parsePayload(t, config && config.payload)).find(Boolean) || null;
    const takenAt = new Date(file.lastModified || Date.now());
    pending = { prepared, acta, takenAt };
    const preview = $('preview');
    if (preview.src) URL.revokeObjectURL(preview.src);
    preview.src = URL.createObjectURL(prepared.blob);
    const mesa = acta ? `${acta.centre}.${String(acta.mesa).padStart(2, '0')}` : null;
    $('qr-line').textContent = acta ? say(S.qr_read, { mesa }) : (texts.length ? S.qr_not_acta : S.qr_not_read);
    const body = $('totals').tBodies[0];
    body.textContent = '';
    if (acta && config) {
      const totals = new Map(config.candidates.map((c) => [c.code, 0]));
      acta.votes.forEach((n, k) => { const who = config.ballot[k]; if (totals.has(who)) totals.set(who, totals.get(who) + n); });
      const row = (label, n) => {
        const tr = body.insertRow();
        tr.insertCell().textContent = label;
        const cell = tr.insertCell();
        cell.className = 'n';
        cell.textContent = String(n);
      };
      for (const c of config.candidates) row(c.name, totals.get(c.code));
      row(S.valid, acta.votes.reduce((a, b) => a + b, 0));
      row(S.nulos, acta.nulos);
    }
    $('totals').hidden = !acta;
    const sendLocation = Boolean(await kvGet('send_location'));
    const items = [
      say(S.will_photo, { kb: Math.round(prepared.blob.size / 1024), w: prepared.w, h: prepared.h }),
      say(S.will_time, { time: takenAt.toLocaleString() }),
    ];
    if (mesa) items.push(say(S.will_mesa, { mesa }));
    if (sendLocation) items.push(S.will_location);
    items.push(S.will_code);
    const list = $('will-send');
    list.textContent = '';
    for (const text of items) { const li = document.createElement('li'); li.textContent = text; list.append(li); }
    $('review').hidden = false;
    show('');
    $('review').scrollIntoView({ block: 'start' });
  }
  async function queuePending() {
    if (!pending) return;
    const { prepared, acta, takenAt } = pending;
    pending = null;
    const where = (await kvGet('send_location')) ? await position() : null;
    await enqueue({
      kind: 'acta',
      data: await prepared.blob.arrayBuffer(),
      fields: {
        taken_at: takenAt.toISOString(),
        centre: acta ? acta.centre : null,
        mesa: acta ? acta.mesa : null,
        lat: where ? where.lat : null,
        lon: where ? where.lon : null,
        accuracy: where ? where.accuracy : null,
      },
    });
    discard();
    show(S.queued, 'good');
    await render();
    sync();
  }
  function discard() {
    pending = null;
    const preview = $('preview');
    if (preview.src) { URL.revokeObjectURL(preview.src); preview.removeAttribute('src'); }
    $('review').hidden = true;
  }

  // -- incidents ------------------------------------------------------------------------------
  function randomId() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  }
  async function onIncident(event) {
    event.preventDefault();
    const photoInput = $('inc-photo');
    const file = photoInput.files && photoInput.files[0];
    let data = null;
    if (file) {
      try { data = await (await prepare(file, (config && config.max_pixels) || 12600000)).blob.arrayBuffer(); }
      catch (error) { show(S.photo_failed, 'bad'); return; }
    }
    await enqueue({
      kind: 'incident',
      data,
      fields: {
        client_id: randomId(),
        centre: $('inc-centre').value.trim(),
        kind: $('inc-kind').value,
        text: $('inc-text').value,
        observed_at: new Date().toISOString(),
      },
    });
    $('inc-text').value = '';
    photoInput.value = '';
    $('incident-box').open = false;
    show(S.incident_queued, 'good');
    await render();
    sync();
  }

  // -- the code ----------------------------------------------------------------------------------
  async function useCode(raw) {
    const code = normalize(raw || '');
    if (!code) { show(S.code_bad, 'bad'); return; }
    const checked = await checkCode(code);
    if (checked === 'invalid') { show(S.invalid_code, 'bad'); return; }
    cleared = false;
    await kvSet('code', code);
    $('code').value = '';
    show(checked === 'ok' ? S.code_ok : S.code_unchecked, 'good');
    await render();
    sync();
  }
  async function onCodePhoto(event) {
    const file = event.target.files && event.target.files[0];
    event.target.value = '';
    if (!file) return;
    const code = (await readQr(file)).map(normalize).find(Boolean);
    if (code) await useCode(code);
    else show(S.no_qr_in_code_photo, 'bad');
  }

  // -- panic ---------------------------------------------------------------------------------------
  async function wipe() {
    if (!window.confirm(S.confirm_wipe)) return;
    discard();
    cleared = true;
    me = null;
    sentHere = 0;
    await new Promise((resolve) => {
      const request = indexedDB.deleteDatabase(DB);
      request.onsuccess = request.onerror = request.onblocked = () => resolve();
    });
    try { localStorage.clear(); sessionStorage.clear(); } catch (error) { /* none kept */ }
    if (window.caches) for (const key of await caches.keys()) await caches.delete(key);
    if (navigator.serviceWorker) for (const r of await navigator.serviceWorker.getRegistrations()) await r.unregister();
    $('code').value = '';
    await render();
    show(S.wiped, 'good');
  }

  // -- start ---------------------------------------------------------------------------------------
  async function start() {
    $('plain').hidden = true; // the script runs: the app replaces the plain form
    $('photo').addEventListener('change', onPhoto);
    $('queue-it').addEventListener('click', queuePending);
    $('discard').addEventListener('click', discard);
    $('incident-form').addEventListener('submit', onIncident);
    $('enrol-form').addEventListener('submit', (event) => { event.preventDefault(); useCode($('code').value); });
    $('code-photo').addEventListener('change', onCodePhoto);
    $('wipe').addEventListener('click', wipe);
    window.addEventListener('online', () => { setNet(true); sync(); });
    window.addEventListener('offline', () => setNet(false));
    setNet(navigator.onLine);
    await loadConfig();
    await render();
    const code = await kvGet('code');
    if (code && navigator.onLine) {
      const checked = await checkCode(code);
      if (checked === 'invalid') show(S.invalid_code, 'bad');
    }
    await render();
    sync();
    setInterval(sync, 15000);
    if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch(() => {});
  }
  start();
})();
