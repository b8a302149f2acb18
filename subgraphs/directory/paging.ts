/**
 * Mapping our offset window onto the DoS's page-number paging in the fewest calls. A client paging forward with
 * a steady `first` is always aligned (one call of pageSize = first); a client that changes `first` mid-way
 * usually still fits one larger DoS page; otherwise two consecutive pages of size `first` always cover it.
 */

export const DOS_MAX_PAGE_SIZE = 100;

export interface DosPageRequest {
  /** 1-based DoS page number. */
  page: number;
  pageSize: number;
}

/** DoS pages covering positions [offset, offset + count), count ≤ DOS_MAX_PAGE_SIZE. */
export function planDosPages(offset: number, count: number, maxPageSize = DOS_MAX_PAGE_SIZE): DosPageRequest[] {
  if (count < 1 || count > maxPageSize) throw new RangeError(`count must be 1..${maxPageSize}`);
  const last = offset + count - 1;
  // The smallest page size that holds the whole window in one page: least data for one call.
  for (let size = count; size <= maxPageSize; size++) {
    if (Math.floor(offset / size) === Math.floor(last / size)) return [{ page: Math.floor(offset / size) + 1, pageSize: size }];
  }
  const firstPage = Math.floor(offset / count) + 1;
  return [
    { page: firstPage, pageSize: count },
    { page: firstPage + 1, pageSize: count },
  ];
}

/** The 0-based position in the whole result of the i-th record on a DoS page. */
export function positionOf(req: DosPageRequest, index: number): number {
  return (req.page - 1) * req.pageSize + index;
}
