/**
 * The hand-off link (spec §1.3): the slot's deep link with `source` (who referred the patient: this product) and
 * `booking-referral` (a correlation id for this one hand-off, which the portal may keep so the booking can be
 * matched later) merged into its query. The spec warns a deep link may already carry a query string, so the merge
 * is done on the parsed URL: existing parameters and the fragment are kept, an existing `source` or
 * `booking-referral` is replaced (there must be one referrer, and it is us), and everything is encoded once.
 */

export const SOURCE_PARAM = 'source';
export const REFERRAL_PARAM = 'booking-referral';

/** The link to hand the patient; null when the deep link is not an absolute http(s) URL. */
export function referralLink(deepLink: string | null, source: string, referral: string): string | null {
  if (!deepLink) return null;
  let url: URL;
  try {
    url = new URL(deepLink);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  url.searchParams.set(SOURCE_PARAM, source);
  url.searchParams.set(REFERRAL_PARAM, referral);
  return url.toString();
}
