/**
 * The epidemic data of the example: outbreaks owned by tenants, and a deterministic SIR model.
 * Every read goes through {@link OutbreakStore.forTenant}: the tenant is part of the query, so a
 * caller can never see another tenant's rows (attribute-based access on the resource itself).
 */
export interface Outbreak {
  id: string;
  tenantId: string;
  disease: string;
  region: string;
  population: number;
  infected: number;
  r0: number;
}

export const SEED_OUTBREAKS: readonly Outbreak[] = [
  { id: 'ob-a-1', tenantId: 'health-a', disease: 'influenza', region: 'North', population: 250_000, infected: 120, r0: 1.4 },
  { id: 'ob-a-2', tenantId: 'health-a', disease: 'measles', region: 'Coast', population: 80_000, infected: 9, r0: 12 },
  { id: 'ob-b-1', tenantId: 'health-b', disease: 'cholera', region: 'Delta', population: 400_000, infected: 310, r0: 2.1 },
];

export interface OutbreakStore {
  forTenant(tenantId: string): { list(): Outbreak[]; get(id: string): Outbreak | undefined };
}

export function createOutbreakStore(rows: readonly Outbreak[] = SEED_OUTBREAKS): OutbreakStore {
  const data = rows.map((r) => ({ ...r }));
  return {
    forTenant(tenantId) {
      return {
        list: () => data.filter((o) => o.tenantId === tenantId),
        get: (id) => data.find((o) => o.id === id && o.tenantId === tenantId),
      };
    },
  };
}

export interface SimulationResult {
  outbreakId: string;
  days: number;
  r0: number;
  peakDay: number;
  peakInfected: number;
  totalInfected: number;
}

/** a discrete SIR model with a 7-day infectious period */
export function simulate(outbreak: Outbreak, days: number, r0 = outbreak.r0): SimulationResult {
  const gamma = 1 / 7;
  const beta = r0 * gamma;
  const n = outbreak.population;
  let s = n - outbreak.infected;
  let i = outbreak.infected;
  let peakDay = 0;
  let peakInfected = i;
  for (let day = 1; day <= days; day++) {
    const newInfections = (beta * s * i) / n;
    const recoveries = gamma * i;
    s -= newInfections;
    i += newInfections - recoveries;
    if (i > peakInfected) {
      peakInfected = i;
      peakDay = day;
    }
  }
  return { outbreakId: outbreak.id, days, r0, peakDay, peakInfected: Math.round(peakInfected), totalInfected: Math.round(n - s) };
}
