/** The `thread` job's task: a few microseconds of integer arithmetic, so the piscina hop is what is measured. */
export default function tiny({ n }) {
  let x = 0;
  for (let i = 0; i < n; i++) x = (x * 31 + i) | 0;
  return x;
}
