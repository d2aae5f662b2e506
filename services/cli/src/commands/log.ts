export { stderrLog as log } from '@kd/trainer';
