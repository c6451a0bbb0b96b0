/* qmigtui lab guest: Multiboot v1 flat image (a.out kludge), 32-bit, paging off.
 * Fills every 4 KiB page above 2 MiB once, then dirties the working set at a
 * paced rate. Pacing uses PIT channel 0 (1.193182 MHz on QEMU's virtual clock),
 * so the rate holds under TCG and KVM alike. */
        .code32
        .intel_syntax noprefix
        .set BASE, 0x100000
        .set WS_START, 0x200000
        .set PIT_HZ, 1193182
        .globl _start
_start:
        .long 0x1BADB002
        .long 0x00010002
        .long -(0x1BADB002 + 0x00010002)
        .long BASE                      /* header_addr */
        .long BASE                      /* load_addr */
        .long 0                         /* load_end_addr: whole file */
        .long 0                         /* bss_end_addr */
        .long BASE + (entry - _start)   /* entry_addr */
        .long 0                         /* +32: working set, bytes */
        .long 0                         /* +36: dirty rate, pages per second */
entry:
        cli
        mov eax, [ebx + 8]              /* mem_upper, KiB above 1 MiB */
        add eax, 1024
        shl eax, 10
        mov ebp, eax                    /* ebp = end of RAM */
        mov edi, WS_START
fill:   cmp edi, ebp
        jae filled
        mov dword ptr [edi], 1
        add edi, 4096
        jmp fill
filled: mov esi, WS_START
        mov eax, [BASE + 32]
        add eax, esi
        cmp eax, ebp
        jbe 1f
        mov eax, ebp
1:      mov ebp, eax                    /* ebp = end of working set */
        mov edi, esi
        mov al, 0x34                    /* PIT ch0, lo/hi, mode 2, binary */
        out 0x43, al
        xor al, al
        out 0x40, al
        out 0x40, al
        xor ecx, ecx                    /* ecx = credit, in PIT_HZ units per page */
        xor ebx, ebx
tick:   xor al, al                      /* latch ch0 */
        out 0x43, al
        in al, 0x40
        mov dl, al
        in al, 0x40
        mov dh, al
        movzx edx, dx
        mov eax, ebx
        sub eax, edx                    /* counter runs down */
        and eax, 0xFFFF
        mov ebx, edx
        cmp eax, 2048                   /* cap a long gap (e.g. vCPU throttled) */
        jbe 2f
        mov eax, 2048
2:      mul dword ptr [BASE + 36]
        add ecx, eax
3:      cmp ecx, PIT_HZ
        jb tick
        sub ecx, PIT_HZ
        inc dword ptr [edi]
        add edi, 4096
        cmp edi, ebp
        jb 3b
        mov edi, esi
        jmp 3b
