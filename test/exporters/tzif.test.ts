/**
 * Time zone names from TZif files, checked against the system's own reader: `date`
 * (glibc) with TZ set, for zones with odd rules and instants before, between and
 * after their transitions. Then the time collector under TZ changes at run time.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { timeCollector } from '../../exporters/time.js';
import { abbreviationAt, numericAbbreviation, parsePosixTz, parseTzif, TzifError, zoneFilePath } from '../../exporters/tzif.js';
import { harness, samples } from './helpers.js';

const ZONEINFO = '/usr/share/zoneinfo';

const ZONES = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'Asia/Kolkata',
  'Asia/Dubai', // numeric abbreviation in tzdata: +04
  'Australia/Lord_Howe', // half-hour daylight saving
  'America/St_Johns',
  'Pacific/Chatham',
  'Europe/Dublin', // negative daylight saving: winter GMT is the "dst" type
  'Africa/Casablanca', // transitions listed far ahead
  'America/Sao_Paulo', // daylight saving abolished
];
// 1970, 2001, winter and summer of the 2020s, 2049, 2096 (past every listed transition)
const INSTANTS = [0, 1_000_000_000, 1_700_000_000, 1_720_000_000, 2_500_000_000, 4_000_000_000];

/** What glibc says: abbreviation and UTC offset in seconds. */
function systemZone(zone: string, seconds: number): { abbreviation: string; utcOffset: number } {
  const out = execFileSync('date', ['-d', `@${seconds}`, '+%Z %z'], { env: { TZ: zone }, encoding: 'utf8' }).trim();
  const [abbreviation = '', z = ''] = out.split(' ');
  const sign = z.startsWith('-') ? -1 : 1;
  return { abbreviation, utcOffset: sign * (Number(z.slice(1, 3)) * 3600 + Number(z.slice(3, 5)) * 60) };
}

t.test('abbreviations agree with glibc across zones and decades', async (t) => {
  let checked = 0;
  for (const zone of ZONES) {
    const tz = parseTzif(readFileSync(`${ZONEINFO}/${zone}`));
    for (const s of INSTANTS) {
      const want = systemZone(zone, s);
      t.equal(abbreviationAt(tz, s * 1000, want.utcOffset), want.abbreviation, `${zone} at ${s}`);
      checked++;
    }
  }
  t.equal(checked, ZONES.length * INSTANTS.length);
});

t.test('a version 1 file (32-bit block, no footer) names the same zones', async (t) => {
  const full = readFileSync(`${ZONEINFO}/Europe/Berlin`);
  const v2 = parseTzif(full);
  const counts = new DataView(full.buffer, full.byteOffset + 20, 24);
  const c = (i: number): number => counts.getUint32(i * 4);
  const v1Size = 44 + c(3) * 5 + c(4) * 6 + c(5) + c(2) * 8 + c(1) + c(0);
  const v1 = Buffer.from(full.subarray(0, v1Size));
  v1[4] = 0;
  const tz = parseTzif(v1);
  t.equal(tz.footer, undefined);
  t.ok(tz.transitions.length > 100, 'the 32-bit block holds the transitions');
  for (const s of [0, 1_000_000_000, 1_700_000_000, 1_720_000_000]) {
    const want = systemZone('Europe/Berlin', s);
    t.equal(abbreviationAt(tz, s * 1000, want.utcOffset), want.abbreviation);
    t.equal(abbreviationAt(v2, s * 1000, want.utcOffset), want.abbreviation);
  }
});

t.test('malformed files are refused with the place', async (t) => {
  const berlin = readFileSync(`${ZONEINFO}/Europe/Berlin`);
  t.throws(() => parseTzif(Buffer.from('TZjf2' + '\0'.repeat(60))), new TzifError('no "TZif" magic at byte 0'));
  t.throws(() => parseTzif(berlin.subarray(0, 30)), new TzifError('truncated header at byte 0'));
  t.throws(() => parseTzif(berlin.subarray(0, berlin.length - 40)), TzifError);
  const noNewline = Buffer.from(berlin);
  noNewline[noNewline.length - 1] = 0x20;
  t.throws(() => parseTzif(noNewline), new TzifError('footer not ended by a newline'));
  t.throws(() => parsePosixTz('1CET'), new TzifError('footer "1CET" is not a POSIX TZ string'));
});

t.test('POSIX TZ strings: names, quoted names and offsets west of Greenwich', async (t) => {
  t.same(parsePosixTz('CET-1CEST,M3.5.0,M10.5.0/3'), { std: { abbreviation: 'CET', utcOffset: 3600 }, dst: { abbreviation: 'CEST', utcOffset: 7200 } });
  t.same(parsePosixTz('<+04>-4'), { std: { abbreviation: '+04', utcOffset: 14400 } });
  t.same(parsePosixTz('NST3:30NDT,M3.2.0,M11.1.0'), { std: { abbreviation: 'NST', utcOffset: -12600 }, dst: { abbreviation: 'NDT', utcOffset: -9000 } });
  t.same(parsePosixTz('<+1030>-10:30<+11>-11,M10.1.0,M4.1.0'), { std: { abbreviation: '+1030', utcOffset: 37800 }, dst: { abbreviation: '+11', utcOffset: 39600 } });
});

t.test('numeric names as tzdata writes them', async (t) => {
  t.equal(numericAbbreviation(0), 'UTC');
  t.equal(numericAbbreviation(14400), '+04');
  t.equal(numericAbbreviation(-12600), '-0330');
  t.equal(numericAbbreviation(20700), '+0545');
});

t.test('the zone file is found as Go finds it', async (t) => {
  t.equal(zoneFilePath(undefined), '/etc/localtime');
  t.equal(zoneFilePath(''), undefined);
  t.equal(zoneFilePath('UTC'), undefined);
  t.equal(zoneFilePath(':Europe/Berlin'), `${ZONEINFO}/Europe/Berlin`);
  t.equal(zoneFilePath('/tmp/zone'), '/tmp/zone');
  t.equal(zoneFilePath('../../etc/passwd'), undefined);
});

t.test('node_time_zone_offset_seconds follows TZ, named as glibc names it', async (t) => {
  const before = process.env['TZ'];
  t.teardown(() => {
    if (before === undefined) delete process.env['TZ'];
    else process.env['TZ'] = before;
  });
  for (const [zone, seconds] of [
    ['Europe/Berlin', 1_700_000_000],
    ['Europe/Berlin', 1_720_000_000],
    ['America/St_Johns', 1_720_000_000],
    ['Asia/Dubai', 1_720_000_000],
    ['', 1_720_000_000],
  ] as const) {
    process.env['TZ'] = zone; // Node resets V8's zone cache on assignment
    const h = harness([timeCollector], {}, () => seconds * 1000);
    const f = await h.collect();
    const want = systemZone(zone, seconds);
    t.same(samples(f, 'node_time_zone_offset_seconds').map((s) => [s.labels['time_zone'], s.value]), [[want.abbreviation, want.utcOffset]], `TZ=${zone}`);
    t.same(h.log.warnings, []);
    h.stop();
  }
});
