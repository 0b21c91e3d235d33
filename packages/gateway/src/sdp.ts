/**
 * Splits an SDP into the description without its ICE candidates, the candidates (`candidate:…`)
 * and the media id they belong to. The DataChannel lane's offer travels without the client's
 * candidates, which follow once the gateway answered (see `server/data-lane.ts`).
 */
export function withoutCandidates(sdp: string): { sdp: string; candidates: string[]; mid: string } {
  const lines = sdp.split(/\r?\n/);
  return {
    sdp: lines.filter((l) => !l.startsWith('a=candidate:') && l !== 'a=end-of-candidates').join('\r\n'),
    candidates: lines.filter((l) => l.startsWith('a=candidate:')).map((l) => l.slice(2)),
    mid: lines.find((l) => l.startsWith('a=mid:'))?.slice(6) ?? '0',
  };
}

/** The connection address of a `candidate:…` line (its fifth field), if it has one. */
export function candidateAddress(candidate: string): string | undefined {
  return candidate.replace(/^a=/, '').split(' ')[4];
}
