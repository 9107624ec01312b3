import type { Facts } from '../../lib/core/types.ts'
import { linuxFacts, macFacts } from './facts.ts'

/**
 * The Macs the toolchain resources tell apart. Under Rosetta the facts script's uname -m says
 * x86_64 (arch 'x64'), while sysctl hw.optional.arm64 says 1 (appleSilicon): the hardware decides.
 */
export const macArmFacts: Facts = macFacts
export const macRosettaFacts: Facts = { ...macFacts, arch: 'x64', appleSilicon: true }
export const macIntelFacts: Facts = { ...macFacts, arch: 'x64', appleSilicon: false, hostname: 'old-mac' }
/** Debian 12 (bookworm) on x86_64, as the facts script reports it. */
export const debianFacts: Facts = linuxFacts
export const debianArmFacts: Facts = { ...linuxFacts, arch: 'arm64' }
