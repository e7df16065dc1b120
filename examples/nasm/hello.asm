; Hello world in 32-bit x86 assembly, using Linux's legacy int 0x80 system calls.
; Build: nasm -f elf hello.asm && ld -m elf_i386 -s -N -o hello hello.o

section .data
    msg db "Hello world!", 0xa      ; the 12-byte string plus a line feed
    len equ $ - msg

section .text
    global _start

_start:
    mov edx, len                    ; count
    mov ecx, msg                    ; buffer
    mov ebx, 1                      ; file descriptor 1: stdout
    mov eax, 4                      ; sys_write
    int 0x80

    ; Deliberately as in the article: ebx is not reset to 0, so it still holds 1
    ; (the stdout descriptor) and sys_exit reports exit status 1.
    mov eax, 1                      ; sys_exit(ebx)
    int 0x80
