/**
 * Deterministic seed for the sandbox: the services a DoS-style directory knows, in three areas of England.
 * Shared by the directory simulator (which serves them) and the supplier simulators (which hold their diaries),
 * so a service id means the same thing everywhere, as it does between DoS and real providers.
 *
 * Names, ODS codes and ASIDs are realistic in shape but fictional; postcodes and coordinates are real places.
 */

export type ServiceTypeCode = 'ED' | 'UTC' | 'MIU' | 'GP_OOH' | 'DENTAL' | 'PHARMACY';

/** DoS-style service types (id, display name). */
export const SERVICE_TYPES: Record<ServiceTypeCode, { id: number; name: string }> = {
  ED: { id: 40, name: 'Emergency Department' },
  UTC: { id: 130, name: 'Urgent Treatment Centre' },
  MIU: { id: 105, name: 'Minor Injuries Unit' },
  GP_OOH: { id: 25, name: 'GP Out of Hours' },
  DENTAL: { id: 20, name: 'Urgent Dental Care' },
  PHARMACY: { id: 13, name: 'Community Pharmacy Consultation Service' },
};

/** Supplier systems that take bookings. Their connection details live in the supplier registry (config/). */
export type SupplierSystemId = 'harbour-uec' | 'meridian-ooh' | 'oakfield-pas' | 'bars-sandbox';

export interface SeedEndpoint {
  /** DoS endpoint record, as UEC booking expects: http / FHIR / Scheduling / ASID:<12 digits> (BaRS: DOS:<service id>). */
  transport: 'http';
  format: 'FHIR' | 'JSON';
  interaction: 'Scheduling';
  address: string;
  /** The supplier system behind that endpoint (our registry key). */
  supplierSystem: SupplierSystemId;
}

export interface SeedService {
  id: string;
  name: string;
  odsCode: string;
  type: ServiceTypeCode;
  /** Services in the same building share a site id (DoS maps them separately). */
  siteId: string;
  address: { lines: string[]; town: string; postcode: string };
  lat: number;
  lon: number;
  endpoint: SeedEndpoint | null;
  /** DoS capacity status and how long ago it was set; older than 24 h means the DoS no longer reports it. */
  capacity: { status: 'GREEN' | 'AMBER' | 'RED'; setMinutesAgo: number; resetInMinutes?: number };
  requireBooking: boolean;
}

const HARBOUR: SeedEndpoint = {
  transport: 'http', format: 'FHIR', interaction: 'Scheduling', address: 'ASID:200000000101', supplierSystem: 'harbour-uec',
};
const MERIDIAN: SeedEndpoint = {
  transport: 'http', format: 'FHIR', interaction: 'Scheduling', address: 'ASID:200000000202', supplierSystem: 'meridian-ooh',
};
const OAKFIELD: SeedEndpoint = {
  transport: 'http', format: 'JSON', interaction: 'Scheduling', address: 'ODS:V81999', supplierSystem: 'oakfield-pas',
};

/** A BaRS receiver: reached through the BaRS API by its own DoS id (NHSD-Target-Identifier), not an ASID. */
const bars = (id: string): SeedEndpoint => ({
  transport: 'http', format: 'FHIR', interaction: 'Scheduling', address: `DOS:${id}`, supplierSystem: 'bars-sandbox',
});

const green = (setMinutesAgo: number) => ({ status: 'GREEN' as const, setMinutesAgo });

export const SEED_SERVICES: SeedService[] = [
  // ---- Leeds ----------------------------------------------------------------------------------------------
  // St James's University Hospital: ED, UTC and GP out-of-hours in one building, mapped as three DoS services.
  { id: '1402000101', name: "St James's University Hospital Emergency Department", odsCode: 'RR813', type: 'ED', siteId: 'site-ls9-sjuh',
    address: { lines: ['Beckett Street'], town: 'Leeds', postcode: 'LS9 7TF' }, lat: 53.8073, lon: -1.5205,
    endpoint: HARBOUR, capacity: { status: 'AMBER', setMinutesAgo: 35, resetInMinutes: 205 }, requireBooking: false },
  { id: '1402000102', name: "St James's Urgent Treatment Centre", odsCode: 'RR813', type: 'UTC', siteId: 'site-ls9-sjuh',
    address: { lines: ['Beckett Street'], town: 'Leeds', postcode: 'LS9 7TF' }, lat: 53.8073, lon: -1.5205,
    endpoint: HARBOUR, capacity: green(90), requireBooking: true },
  { id: '1402000103', name: "Leeds GP Out of Hours at St James's", odsCode: 'NLK01', type: 'GP_OOH', siteId: 'site-ls9-sjuh',
    address: { lines: ['Beckett Street'], town: 'Leeds', postcode: 'LS9 7TF' }, lat: 53.8073, lon: -1.5205,
    endpoint: MERIDIAN, capacity: green(300), requireBooking: true },
  { id: '1402000104', name: 'Leeds General Infirmary Emergency Department', odsCode: 'RR801', type: 'ED', siteId: 'site-ls1-lgi',
    address: { lines: ['Great George Street'], town: 'Leeds', postcode: 'LS1 3EX' }, lat: 53.8020, lon: -1.5520,
    endpoint: HARBOUR, capacity: { status: 'RED', setMinutesAgo: 20, resetInMinutes: 40 }, requireBooking: false },
  { id: '1402000105', name: "St George's Centre Urgent Treatment Centre", odsCode: 'RY6G1', type: 'UTC', siteId: 'site-ls10-stg',
    address: { lines: ['St George\'s Road', 'Middleton'], town: 'Leeds', postcode: 'LS10 4UZ' }, lat: 53.7519, lon: -1.5497,
    endpoint: HARBOUR, capacity: green(45), requireBooking: true },
  { id: '1402000106', name: 'Wharfedale Hospital Minor Injuries Unit', odsCode: 'RR8W1', type: 'MIU', siteId: 'site-ls21-wharf',
    address: { lines: ['Newall Carr Road'], town: 'Otley', postcode: 'LS21 2LY' }, lat: 53.9090, lon: -1.6930,
    endpoint: HARBOUR, capacity: green(2000), requireBooking: false },
  { id: '1402000107', name: 'Leeds Dental Institute Urgent Dental Care', odsCode: 'RR8D1', type: 'DENTAL', siteId: 'site-ls2-ldi',
    address: { lines: ['Clarendon Way'], town: 'Leeds', postcode: 'LS2 9LU' }, lat: 53.8040, lon: -1.5610,
    endpoint: OAKFIELD, capacity: green(60), requireBooking: true },
  { id: '1402000108', name: 'Headingley Dental Practice (urgent access)', odsCode: 'V81101', type: 'DENTAL', siteId: 'site-ls6-head',
    address: { lines: ['52 Otley Road', 'Headingley'], town: 'Leeds', postcode: 'LS6 2AL' }, lat: 53.8195, lon: -1.5770,
    endpoint: OAKFIELD, capacity: green(120), requireBooking: true },
  { id: '1402000109', name: 'Boots Pharmacy Briggate', odsCode: 'FA123', type: 'PHARMACY', siteId: 'site-ls1-briggate',
    address: { lines: ['19 Briggate'], town: 'Leeds', postcode: 'LS1 6HD' }, lat: 53.7975, lon: -1.5425,
    endpoint: null, capacity: green(30), requireBooking: false },
  { id: '1402000110', name: 'Hyde Park Pharmacy', odsCode: 'FK456', type: 'PHARMACY', siteId: 'site-ls6-hyde',
    address: { lines: ['6 Hyde Park Corner'], town: 'Leeds', postcode: 'LS6 1AF' }, lat: 53.8140, lon: -1.5640,
    endpoint: null, capacity: green(3000), requireBooking: false },
  { id: '1402000111', name: 'Seacroft Hospital Urgent Treatment Centre', odsCode: 'RR8S1', type: 'UTC', siteId: 'site-ls14-seacroft',
    address: { lines: ['York Road'], town: 'Leeds', postcode: 'LS14 6UH' }, lat: 53.8160, lon: -1.4620,
    endpoint: MERIDIAN, capacity: green(15), requireBooking: true },
  { id: '1402000112', name: 'Armley Pharmacy', odsCode: 'FL789', type: 'PHARMACY', siteId: 'site-ls12-armley',
    address: { lines: ['110 Town Street', 'Armley'], town: 'Leeds', postcode: 'LS12 3HD' }, lat: 53.7975, lon: -1.5900,
    endpoint: null, capacity: green(10), requireBooking: false },

  // ---- Bristol --------------------------------------------------------------------------------------------
  // Bristol Royal Infirmary: ED and GP out-of-hours share the building.
  { id: '1403000201', name: 'Bristol Royal Infirmary Emergency Department', odsCode: 'RA701', type: 'ED', siteId: 'site-bs2-bri',
    address: { lines: ['Upper Maudlin Street'], town: 'Bristol', postcode: 'BS2 8HW' }, lat: 51.4585, lon: -2.5965,
    endpoint: HARBOUR, capacity: green(50), requireBooking: false },
  { id: '1403000202', name: 'BrisDoc GP Out of Hours at Bristol Royal Infirmary', odsCode: 'NLX02', type: 'GP_OOH', siteId: 'site-bs2-bri',
    address: { lines: ['Upper Maudlin Street'], town: 'Bristol', postcode: 'BS2 8HW' }, lat: 51.4585, lon: -2.5965,
    endpoint: MERIDIAN, capacity: green(80), requireBooking: true },
  { id: '1403000203', name: 'Southmead Hospital Emergency Department', odsCode: 'RVJ01', type: 'ED', siteId: 'site-bs10-southmead',
    address: { lines: ['Southmead Road', 'Westbury-on-Trym'], town: 'Bristol', postcode: 'BS10 5NB' }, lat: 51.4958, lon: -2.5920,
    endpoint: null, capacity: green(400), requireBooking: false },
  { id: '1403000204', name: 'South Bristol Urgent Treatment Centre', odsCode: 'RA7SB', type: 'UTC', siteId: 'site-bs14-hengrove',
    address: { lines: ['Hengrove Promenade', 'Hengrove'], town: 'Bristol', postcode: 'BS14 0DE' }, lat: 51.4150, lon: -2.5840,
    endpoint: HARBOUR, capacity: { status: 'AMBER', setMinutesAgo: 10, resetInMinutes: 230 }, requireBooking: true },
  { id: '1403000205', name: 'Yate Minor Injuries Unit', odsCode: 'RVJY1', type: 'MIU', siteId: 'site-bs37-yate',
    address: { lines: ['West Walk'], town: 'Yate', postcode: 'BS37 4AX' }, lat: 51.5410, lon: -2.4110,
    endpoint: HARBOUR, capacity: green(70), requireBooking: false },
  { id: '1403000206', name: 'Bristol Dental Hospital Urgent Care', odsCode: 'RA7D1', type: 'DENTAL', siteId: 'site-bs1-dental',
    address: { lines: ['Lower Maudlin Street'], town: 'Bristol', postcode: 'BS1 2LY' }, lat: 51.4590, lon: -2.5960,
    endpoint: OAKFIELD, capacity: green(25), requireBooking: true },
  { id: '1403000207', name: 'Clifton Village Pharmacy', odsCode: 'FB234', type: 'PHARMACY', siteId: 'site-bs8-clifton',
    address: { lines: ['15 Princess Victoria Street', 'Clifton'], town: 'Bristol', postcode: 'BS8 4BX' }, lat: 51.4560, lon: -2.6200,
    endpoint: null, capacity: green(55), requireBooking: false },
  { id: '1403000208', name: 'Eastgate GP Out of Hours Centre', odsCode: 'NLX03', type: 'GP_OOH', siteId: 'site-bs5-eastgate',
    address: { lines: ['Eastgate Road'], town: 'Bristol', postcode: 'BS5 6XX' }, lat: 51.4700, lon: -2.5580,
    endpoint: MERIDIAN, capacity: green(240), requireBooking: true },
  { id: '1403000209', name: 'Bedminster Pharmacy', odsCode: 'FC345', type: 'PHARMACY', siteId: 'site-bs3-bedminster',
    address: { lines: ['230 North Street', 'Bedminster'], town: 'Bristol', postcode: 'BS3 1JD' }, lat: 51.4405, lon: -2.6080,
    endpoint: null, capacity: green(95), requireBooking: false },
  { id: '1403000210', name: 'Cossham Hospital Minor Injuries Unit', odsCode: 'RVJC1', type: 'MIU', siteId: 'site-bs15-cossham',
    address: { lines: ['Lodge Road', 'Kingswood'], town: 'Bristol', postcode: 'BS15 1LF' }, lat: 51.4640, lon: -2.5050,
    endpoint: HARBOUR, capacity: green(33), requireBooking: false },
  { id: '1403000211', name: 'Fishponds Dental Surgery (urgent access)', odsCode: 'V82202', type: 'DENTAL', siteId: 'site-bs16-fishponds',
    address: { lines: ['720 Fishponds Road'], town: 'Bristol', postcode: 'BS16 3UH' }, lat: 51.4800, lon: -2.5280,
    endpoint: OAKFIELD, capacity: green(180), requireBooking: true },

  // ---- Norwich --------------------------------------------------------------------------------------------
  // Norfolk and Norwich University Hospital: ED, UTC and GP out-of-hours in one building. Harbour maps the UTC's
  // appointment diary to the ED's service too (ED streaming to the UTC: sandbox/booking-standard/catalogue.ts), so
  // the same slots are listed under both services, as a provider's shared Schedule is.
  { id: '1404000301', name: 'Norfolk and Norwich University Hospital Emergency Department', odsCode: 'RM102', type: 'ED', siteId: 'site-nr4-nnuh',
    address: { lines: ['Colney Lane'], town: 'Norwich', postcode: 'NR4 7UY' }, lat: 52.6180, lon: 1.2190,
    endpoint: HARBOUR, capacity: green(12), requireBooking: false },
  { id: '1404000302', name: 'Norfolk and Norwich Urgent Treatment Centre', odsCode: 'RM1U1', type: 'UTC', siteId: 'site-nr4-nnuh',
    address: { lines: ['Colney Lane'], town: 'Norwich', postcode: 'NR4 7UY' }, lat: 52.6180, lon: 1.2190,
    endpoint: HARBOUR, capacity: green(65), requireBooking: true },
  { id: '1404000303', name: 'Norfolk GP Out of Hours at Norfolk and Norwich', odsCode: 'NLY04', type: 'GP_OOH', siteId: 'site-nr4-nnuh',
    address: { lines: ['Colney Lane'], town: 'Norwich', postcode: 'NR4 7UY' }, lat: 52.6180, lon: 1.2190,
    endpoint: MERIDIAN, capacity: green(150), requireBooking: true },
  { id: '1404000304', name: 'Norwich Walk-in Centre', odsCode: 'RY3W1', type: 'UTC', siteId: 'site-nr1-rouen',
    address: { lines: ['Rouen House', 'Rouen Road'], town: 'Norwich', postcode: 'NR1 1RB' }, lat: 52.6260, lon: 1.2990,
    endpoint: HARBOUR, capacity: green(5), requireBooking: false },
  // Mapped at the provider but with nothing released: a real "no slots" case.
  { id: '1404000305', name: 'Cromer Hospital Minor Injuries Unit', odsCode: 'RM1C1', type: 'MIU', siteId: 'site-nr27-cromer',
    address: { lines: ['Mill Road'], town: 'Cromer', postcode: 'NR27 0BQ' }, lat: 52.9270, lon: 1.2980,
    endpoint: HARBOUR, capacity: green(600), requireBooking: false },
  { id: '1404000306', name: 'Norwich Community Dental Service (urgent)', odsCode: 'RY3D1', type: 'DENTAL', siteId: 'site-nr3-dental',
    address: { lines: ['Bowthorpe Road'], town: 'Norwich', postcode: 'NR2 3TU' }, lat: 52.6340, lon: 1.2640,
    endpoint: OAKFIELD, capacity: green(40), requireBooking: true },
  { id: '1404000307', name: 'Castle Meadow Pharmacy', odsCode: 'FD456', type: 'PHARMACY', siteId: 'site-nr1-castle',
    address: { lines: ['27 Castle Meadow'], town: 'Norwich', postcode: 'NR1 3DH' }, lat: 52.6280, lon: 1.2960,
    endpoint: null, capacity: green(22), requireBooking: false },
  { id: '1404000308', name: 'James Paget University Hospital Emergency Department', odsCode: 'RGP01', type: 'ED', siteId: 'site-nr31-jpuh',
    address: { lines: ['Lowestoft Road', 'Gorleston'], town: 'Great Yarmouth', postcode: 'NR31 6LA' }, lat: 52.5590, lon: 1.7200,
    endpoint: MERIDIAN, capacity: { status: 'AMBER', setMinutesAgo: 1500 }, requireBooking: false },
  { id: '1404000309', name: 'Earlham Road Pharmacy', odsCode: 'FE567', type: 'PHARMACY', siteId: 'site-nr2-earlham',
    address: { lines: ['101 Earlham Road'], town: 'Norwich', postcode: 'NR2 3RG' }, lat: 52.6300, lon: 1.2780,
    endpoint: null, capacity: green(14), requireBooking: false },
  { id: '1404000310', name: 'North Walsham Minor Injuries Unit', odsCode: 'RM1N1', type: 'MIU', siteId: 'site-nr28-nwalsham',
    address: { lines: ['Yarmouth Road'], town: 'North Walsham', postcode: 'NR28 9AP' }, lat: 52.8170, lon: 1.3960,
    endpoint: HARBOUR, capacity: green(85), requireBooking: false },
  { id: '1404000311', name: 'Dereham Dental Practice (urgent access)', odsCode: 'V83303', type: 'DENTAL', siteId: 'site-nr19-dereham',
    address: { lines: ['8 Quebec Street'], town: 'Dereham', postcode: 'NR19 2DJ' }, lat: 52.6810, lon: 0.9400,
    endpoint: OAKFIELD, capacity: green(260), requireBooking: true },

  // ---- BaRS receivers (sandbox/bars/services.ts holds their diaries) ----------------------------------------------
  // Three share a building with services above (the DoS maps each separately); Great Yarmouth's UTC is alone.
  { id: '1402000113', name: "St James's Same Day Emergency Care", odsCode: 'RR8SD', type: 'ED', siteId: 'site-ls9-sjuh',
    address: { lines: ['Beckett Street'], town: 'Leeds', postcode: 'LS9 7TF' }, lat: 53.8073, lon: -1.5205,
    endpoint: bars('1402000113'), capacity: green(50), requireBooking: true },
  { id: '1403000212', name: 'Bristol Royal Infirmary Urgent Treatment Centre', odsCode: 'RA7U1', type: 'UTC', siteId: 'site-bs2-bri',
    address: { lines: ['Upper Maudlin Street'], town: 'Bristol', postcode: 'BS2 8HW' }, lat: 51.4585, lon: -2.5965,
    endpoint: bars('1403000212'), capacity: green(70), requireBooking: true },
  { id: '1404000312', name: 'Norwich Urgent Dental Access at Rouen House', odsCode: 'RY3DA', type: 'DENTAL', siteId: 'site-nr1-rouen',
    address: { lines: ['Rouen House', 'Rouen Road'], town: 'Norwich', postcode: 'NR1 1RB' }, lat: 52.6260, lon: 1.2990,
    endpoint: bars('1404000312'), capacity: green(30), requireBooking: true },
  { id: '1404000313', name: 'Great Yarmouth Urgent Treatment Centre', odsCode: 'RGPU1', type: 'UTC', siteId: 'site-nr30-northgate',
    address: { lines: ['Northgate Street'], town: 'Great Yarmouth', postcode: 'NR30 1BU' }, lat: 52.6160, lon: 1.7270,
    endpoint: bars('1404000313'), capacity: green(15), requireBooking: true },
];

/** Sandbox consumer organisations (Booking Consumers): used for dev tokens and per-organisation slot visibility. */
export interface SeedConsumer { odsCode: string; name: string; asid: string }
export const SEED_CONSUMERS: SeedConsumer[] = [
  { odsCode: 'RX8', name: 'Yorkshire Ambulance Service NHS 111', asid: '918999190001' },
  { odsCode: 'NLO11', name: 'Devon Doctors Clinical Assessment Service', asid: '918999190002' },
  { odsCode: 'X26', name: 'NHS App (patient facing)', asid: '918999190003' },
];

/** Postcode centroids the sandbox directory can geocode (a real DoS resolves any postcode). */
export const SEED_POSTCODES: Record<string, { lat: number; lon: number }> = {
  'LS1 4AP': { lat: 53.7960, lon: -1.5480 },
  'LS9 7TF': { lat: 53.8073, lon: -1.5205 },
  'LS6 2AL': { lat: 53.8195, lon: -1.5770 },
  'LS21 2LY': { lat: 53.9090, lon: -1.6930 },
  'BS1 5TR': { lat: 51.4545, lon: -2.5930 },
  'BS2 8HW': { lat: 51.4585, lon: -2.5965 },
  'BS37 4AX': { lat: 51.5410, lon: -2.4110 },
  'NR1 3JU': { lat: 52.6290, lon: 1.2930 },
  'NR4 7UY': { lat: 52.6180, lon: 1.2190 },
  'NR27 0BQ': { lat: 52.9270, lon: 1.2980 },
  'NR30 1BU': { lat: 52.6160, lon: 1.7270 },
};
