/* SPDX-License-Identifier: Apache-2.0 */
/* Can this host run a runvm guest under KVM? Not "does /dev/kvm open":
 * a nested or broken KVM opens, creates VMs, and then stops the guest
 * with an internal error. The answer is a real boot of the guest kernel
 * and initramfs under KVM (the agent in probe mode) that must say hello
 * before a short deadline. The verdict is cached under the state root,
 * keyed on what could change it: the host's boot, /dev/kvm, QEMU, the
 * kernel, the initramfs and runvm itself. */
#pragma once

/* The QEMU driver's probe (vm_probe in vm/vm.h; the driver table calls
 * it as qemu_probe, vm/qemu/qemu-vm.h). */

/* The cache file's name inside cache_dir. */
#define VM_KVM_VERDICT_FILE "kvm-verdict"
